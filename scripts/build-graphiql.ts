/**
 * Builds the GraphiQL page's static assets into `dist/graphiql-assets/`: the app (`src/graphiql/browser/`),
 * its CSS and Monaco's web workers, bundled from the installed packages so that the page loads nothing from
 * the internet. Runs as npm's `prepare` (after `npm ci`), as `npm run build:graphiql`, and in the Docker build.
 *
 * Every file name carries a content hash, so the server can let browsers cache them for a year; the server
 * finds the entry files through `manifest.json`. Each file also gets a `.gz` twin for clients that accept it.
 */
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { constants, gzip } from 'node:zlib';
import { build } from 'esbuild';
import type { BuildOptions, Metafile, Plugin } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/graphiql-assets`;
const browserSources = `${root}src/graphiql/browser`;

/** Monaco's workers, by the label Monaco asks for (the editor worker serves every other label). */
const WORKERS = {
  editor: 'monaco-editor/esm/vs/editor/editor.worker.js',
  json: 'monaco-editor/esm/vs/language/json/json.worker.js',
  graphql: 'monaco-graphql/esm/graphql.worker.js',
} as const;

const common: BuildOptions = {
  absWorkingDir: root,
  bundle: true,
  minify: true,
  outdir,
  entryNames: '[name]-[hash]',
  chunkNames: 'chunk-[hash]',
  assetNames: '[name]-[hash]',
  target: ['es2022', 'chrome111', 'firefox111', 'safari16'],
  define: { 'process.env.NODE_ENV': '"production"' },
  // GraphiQL's prettify imports Prettier's parsers by their legacy names, which resolve to UMD files whose
  // exports a bundler cannot see (so prettify would fail with "Couldn't resolve parser"): use the ES modules.
  alias: {
    'prettier/parser-graphql': 'prettier/plugins/graphql',
    'prettier/parser-babel': 'prettier/plugins/babel',
  },
  logLevel: 'warning',
  plugins: [skipCssImportedByScripts()],
};

const started = Date.now();
await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });

// The workers first: the app names their (hashed) files.
const workers = await build({
  ...common,
  entryPoints: Object.fromEntries(Object.entries(WORKERS).map(([label, path]) => [`${label}.worker`, path])),
  format: 'iife',
  metafile: true,
});
const workerFiles = Object.fromEntries(
  Object.keys(WORKERS).map((label) => [label, outputOf(workers.metafile, `${label}.worker`, '.js')]),
);

const app = await build({
  ...common,
  entryPoints: { main: `${browserSources}/main.ts`, style: `${browserSources}/main.css` },
  format: 'esm',
  splitting: true,
  metafile: true,
  define: { ...common.define, GRAPHIQL_WORKERS: JSON.stringify(workerFiles) },
});
const manifest = {
  script: outputOf(app.metafile, 'main', '.js'),
  style: outputOf(app.metafile, 'style', '.css'),
};

await assertNothingRemote(manifest.style);
const files = await readdir(outdir);
const gzipped = promisify(gzip);
await Promise.all(
  files.map(async (file) => {
    const compressed = await gzipped(await readFile(`${outdir}/${file}`), {
      level: constants.Z_BEST_COMPRESSION,
    });
    await writeFile(`${outdir}/${file}.gz`, compressed);
  }),
);
await writeFile(`${outdir}/manifest.json`, `${JSON.stringify(manifest, null, 2)}\n`);
console.log(`GraphiQL: ${files.length} assets in dist/graphiql-assets/ (${Date.now() - started} ms)`);

/**
 * Monaco's modules import their own CSS, which `graphiql/style.css` (GraphiQL's documented stylesheet, as its
 * CDN build uses it) already holds whole, codicon font included: bundling both would ship Monaco's CSS twice.
 */
function skipCssImportedByScripts(): Plugin {
  return {
    name: 'skip-css-imported-by-scripts',
    setup(build) {
      build.onResolve({ filter: /\.css$/ }, (args) =>
        args.kind === 'import-statement' ? { path: args.path, namespace: 'skipped-css' } : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: 'skipped-css' }, () => ({ contents: '', loader: 'js' }));
    },
  };
}

/** The file name esbuild gave the output of entry point `name`; a build without it is a bug here. */
function outputOf(metafile: Metafile, name: string, extension: string): string {
  const path = Object.keys(metafile.outputs).find((output) => {
    const file = output.slice(output.lastIndexOf('/') + 1);
    return file.startsWith(`${name}-`) && file.endsWith(extension);
  });
  if (!path) throw new Error(`GraphiQL build: no ${extension} output for entry "${name}"`);
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * The stylesheet must not pull a font or an image from a server (the packages ship theirs as data: URLs);
 * a future package version that does would break the page offline, so it stops the build instead.
 */
async function assertNothingRemote(styleFile: string): Promise<void> {
  const css = await readFile(`${outdir}/${styleFile}`, 'utf8');
  const remote = css.match(/(?:url\(\s*['"]?|@import\s+['"])(?:https?:)?\/\/[^'")\s]+/g);
  if (remote) throw new Error(`GraphiQL build: the stylesheet loads remote resources: ${remote.join(', ')}`);
}
