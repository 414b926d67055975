import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/** The files that read the environment: `src/config.ts`, its parsers per concern in `src/config/`, the simulator's. */
export const CONFIG_SOURCES: readonly string[] = [
  'src/config.ts',
  ...readdirSync(join(ROOT, 'src/config'))
    .filter((file) => file.endsWith('.ts'))
    .map((file) => `src/config/${file}`),
  'src/simulator/config.ts',
];

/**
 * The variables named in the configuration sources: the string argument of any call whose first argument is an
 * upper-case name (`read('X')`, `int('X', …)`, `bool('X', …)`, `required('X')`, `fail('X', …)` and any helper
 * added later) and every `env['X']` or `env.X`.
 */
export function variablesInConfigSources(): Set<string> {
  const names = new Set<string>();
  for (const file of CONFIG_SOURCES) {
    const source = readFileSync(join(ROOT, file), 'utf8');
    for (const match of source.matchAll(
      /\b[A-Za-z_$][\w$]*\(\s*(['"`])([A-Z][A-Z0-9_]*)\1|\benv(?:\?\.)?(?:\[\s*(['"`])([A-Z][A-Z0-9_]*)\3\s*\]|\.([A-Z][A-Z0-9_]*)\b)/g,
    )) {
      names.add((match[2] ?? match[4] ?? match[5])!);
    }
  }
  return names;
}
