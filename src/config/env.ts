/** A bad configuration value; the message names the variable. */
export class ConfigError extends Error {}

/** Typed reads of one environment, each failing with a ConfigError that names the variable. */
export interface EnvReader {
  /** The trimmed value; empty is unset. */
  read(name: string): string | undefined;
  /** Throws the ConfigError `name: message`. */
  fail(name: string, message: string): never;
  /** An integer ≥ `min` (default 0), or `fallback` when unset. */
  int(name: string, fallback: number, min?: number): number;
  /** `true` or `false`, or `fallback` when unset. */
  bool(name: string, fallback: boolean): boolean;
}

export function envReader(env: NodeJS.ProcessEnv): EnvReader {
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  const fail = (name: string, message: string): never => {
    throw new ConfigError(`${name}: ${message}`);
  };
  return {
    read,
    fail,
    int(name, fallback, min = 0) {
      const raw = read(name);
      if (raw === undefined) return fallback;
      const value = Number(raw);
      return Number.isInteger(value) && value >= min
        ? value
        : fail(name, `expected an integer ≥ ${min}, got "${raw}"`);
    },
    bool(name, fallback) {
      const raw = read(name);
      if (raw === undefined) return fallback;
      if (raw !== 'true' && raw !== 'false') fail(name, `expected true or false, got "${raw}"`);
      return raw === 'true';
    },
  };
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** A host name that stays on this machine: the only ones plain http:// is accepted for. */
export function isLoopback(hostname: string): boolean {
  return LOOPBACK.has(hostname) || hostname.startsWith('127.');
}

/** `raw` as a URL that is https://, or http:// to a loopback host; else a ConfigError naming `name`. */
export function secureUrl({ fail }: EnvReader, name: string, raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // The value is never echoed: a mistyped URL may carry a secret, and start-up errors reach the logs.
    return fail(name, 'not a URL; expected https://host (http:// only for loopback hosts)');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    fail(name, 'must be https:// (http:// only for loopback hosts)');
  }
  return url;
}
