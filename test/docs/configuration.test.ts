import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { readSimulatorEnv } from '../../src/simulator/config.js';
import { variablesInConfigSources } from '../helpers/config-sources.js';

/**
 * The reference lives in docs/, and nothing keeps prose true by itself: these tests hold docs/configuration.md
 * to the variables the code reads, and README.md and docs/ to links that stay inside this repository.
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CONFIGURATION_PAGE = join(root, 'docs', 'configuration.md');

/** An environment that records every name the code asks it for. */
function recordingEnv(values: Record<string, string>, seen: Set<string>): NodeJS.ProcessEnv {
  return new Proxy(values, {
    get(target, name) {
      if (typeof name === 'string') seen.add(name);
      return typeof name === 'string' ? target[name] : undefined;
    },
  }) as NodeJS.ProcessEnv;
}

/**
 * The variables the code asks for when it runs, under configurations that take every branch that reads
 * more: the embedded simulator, and a real Defender with MSAL credentials and inbound JWTs.
 */
function variablesReadAtRuntime(): Set<string> {
  const seen = new Set<string>();
  loadConfig(recordingEnv({}, seen));
  loadConfig(
    recordingEnv(
      {
        DEFENDER_API_URL: 'https://api.security.microsoft.com',
        AZURE_TENANT_ID: 't',
        AZURE_CLIENT_ID: 'c',
        AZURE_CLIENT_SECRET: 's',
        AUTH_ISSUER: 'https://login.microsoftonline.com/t/v2.0',
        AUTH_AUDIENCE: 'api://defender-graph',
        AUTH_JWKS_URI: 'https://login.microsoftonline.com/t/discovery/v2.0/keys',
      },
      seen,
    ),
  );
  readSimulatorEnv(
    recordingEnv({ SIMULATOR_MACHINES: '10', SIMULATOR_USERS: '5', SIMULATOR_ALERTS: '20' }, seen),
  );
  return seen;
}

/** The names in the first cell of every table row of docs/configuration.md. */
function variablesDocumented(): Set<string> {
  const names = new Set<string>();
  for (const line of readFileSync(CONFIGURATION_PAGE, 'utf8').split('\n')) {
    const cell = /^\|([^|]*)\|/.exec(line)?.[1];
    if (cell === undefined) continue;
    for (const match of cell.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.add(match[1]!);
  }
  return names;
}

describe('docs/configuration.md', () => {
  const inSource = variablesInConfigSources();
  const atRuntime = variablesReadAtRuntime();
  const documented = variablesDocumented();

  it('is compared with variables really found in the code', () => {
    for (const name of [
      'PORT',
      'DEFENDER_API_URL',
      'AUTH_ISSUER',
      'NODE_ENV',
      'SIMULATOR_PORT',
      'SIMULATOR_TOKEN',
    ]) {
      expect(inSource, name).toContain(name);
    }
    expect(atRuntime).toContain('DEFENDER_CLOUD');
    expect(atRuntime).toContain('SIMULATOR_SEED');
  });

  it('documents every variable src/config.ts and src/simulator/config.ts read', () => {
    const read = [...new Set([...inSource, ...atRuntime])].sort();
    expect(read.filter((name) => !documented.has(name))).toEqual([]);
  });

  it('documents no variable the code does not read', () => {
    const stale = [...documented].filter((name) => !inSource.has(name) && !atRuntime.has(name)).sort();
    expect(stale).toEqual([]);
  });
});

/** README.md and every page of docs/. */
function documentationPages(): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(root, 'docs', name));
  return [join(root, 'README.md'), ...docs];
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  const counts = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^```/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const slug = heading[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const seen = counts.get(slug) ?? 0;
    counts.set(slug, seen + 1);
    found.add(seen === 0 ? slug : `${slug}-${seen}`);
  }
  return found;
}

/** Whether a resolved path is this repository or below it. */
const inside = (path: string) => {
  const rel = relative(root, path);
  return rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
};

describe('README.md and docs/', () => {
  const pages = documentationPages();

  it('link only to files and headings inside this repository', () => {
    const broken: string[] = [];
    for (const page of pages) {
      const text = readFileSync(page, 'utf8');
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1]!;
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const file = path === '' ? page : resolve(dirname(page), path);
        const where = `${relative(root, page)} → ${target}`;
        if (!inside(file)) broken.push(`${where}: outside the repository`);
        else if (!existsSync(file)) broken.push(`${where}: no such file`);
        else if (
          anchor !== undefined &&
          file.endsWith('.md') &&
          !anchors(readFileSync(file, 'utf8')).has(anchor)
        )
          broken.push(`${where}: no such heading`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('name no path that leaves the repository', () => {
    const leaving: string[] = [];
    for (const page of pages) {
      const text = readFileSync(page, 'utf8');
      for (const match of text.matchAll(/(?:^|[\s(`'"[])((?:\.\.\/)+[^\s)`'"\]]*)/gm)) {
        if (!inside(resolve(dirname(page), match[1]!))) leaving.push(`${relative(root, page)}: ${match[1]}`);
      }
    }
    expect(leaving).toEqual([]);
  });

  it('are all linked from the README, which keeps the start and test commands', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const page of pages.slice(1)) {
      expect(readme, relative(root, page)).toContain(`](${relative(root, page)})`);
    }
    expect(readme).toMatch(/^npm ci && npm start\b/m);
    expect(readme).toMatch(/^npm ci && npm test\b/m);
  });
});
