import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { buildSubgraphSchema, printSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import * as prettier from 'prettier';
import { loadTypeDefs } from '../src/graphql/schema.js';

/**
 * `npm run sdl` writes the subgraph SDL (what `_service { sdl }` answers: `schema/*.graphql` with its
 * federation `@link` and `@key`s) to `schema.subgraph.graphql`, the file to publish to a schema registry and
 * to generate client types from. `npm run sdl:check` (`--check`) fails when the committed file is stale.
 */
const FILE = fileURLToPath(new URL('../schema.subgraph.graphql', import.meta.url));

const sdl = printSubgraphSchema(buildSubgraphSchema(parse(loadTypeDefs())));
// Formatted as `prettier --check .` wants it, so the committed file passes both checks.
const formatted = await prettier.format(sdl, {
  ...(await prettier.resolveConfig(FILE)),
  filepath: FILE,
});

if (process.argv.includes('--check')) {
  const committed = await readFile(FILE, 'utf8').catch(() => '');
  if (committed !== formatted) {
    console.error('schema.subgraph.graphql is stale: run `npm run sdl` and commit the result.');
    process.exitCode = 1;
  }
} else {
  await writeFile(FILE, formatted);
  console.log('wrote schema.subgraph.graphql');
}
