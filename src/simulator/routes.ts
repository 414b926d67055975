import type { DefenderReadApi } from '../defender/apis.js';

/**
 * Defender's alert writes (`docs/defender-api.md` §9), named by method and route template: `PATCH` shares its
 * path with `GET alerts/{id}` but is another API with its own budget.
 */
export const SIMULATOR_WRITE_APIS = ['PATCH alerts/{id}', 'POST alerts/batchUpdate'] as const;
export type SimulatorWriteApi = (typeof SIMULATOR_WRITE_APIS)[number];

/**
 * Every API the simulator serves, as named in its call log and fault rules: Defender's read routes by
 * template, its alert writes, and `hunting` for Graph's advanced hunting (`POST /v1.0/security/runHuntingQuery`).
 */
export type SimulatorApi = DefenderReadApi | SimulatorWriteApi | 'hunting';

/** A request path resolved to the Defender API it calls. */
export interface RouteMatch {
  readonly api: DefenderReadApi;
  /** The `{id}` segment, percent-decoded. */
  readonly id?: string;
  /** `findbyip(ip='…',timestamp=…)` arguments. */
  readonly args?: Readonly<Record<string, string>>;
  /** The path ended in `/$count`: answer a bare number. */
  readonly count: boolean;
}

const PREFIXES = [['api', 'v1.0'], ['api']];
const FIND_BY_IP = /^findbyip\((.*)\)$/i;
const FUNCTION_ARG = /^\s*(\w+)\s*=\s*(?:'((?:[^']|'')*)'|([^,']*?))\s*$/;

/**
 * Resolves a raw request path (`/api/machines/abc/logonusers`, `/api/v1.0/alerts/$count`) to its API, or
 * undefined for a route Defender does not have (which it answers with an empty 404). Segments are split
 * before they are decoded, so an encoded `/` inside an id stays part of that id.
 */
export function matchRoute(rawPath: string): RouteMatch | undefined {
  let segments: string[];
  try {
    segments = rawPath.split('/').slice(1).map(decodeURIComponent);
  } catch {
    return undefined;
  }
  const prefix = PREFIXES.find((p) => p.every((s, i) => segments[i]?.toLowerCase() === s));
  if (!prefix) return undefined;
  const rest = segments.slice(prefix.length);
  const count = rest.length > 1 && rest[rest.length - 1] === '$count';
  if (count) rest.pop();
  const [collection, id, relation, ...extra] = rest;
  if (extra.length > 0 || rest.some((s) => s === '')) return undefined;
  const c = collection?.toLowerCase();
  const r = relation?.toLowerCase();

  if (c === 'machines') {
    if (id === undefined) return { api: 'machines', count };
    if (relation === undefined) {
      if (id.toLowerCase() === 'findbytag') return { api: 'machines/findbytag', count };
      const find = FIND_BY_IP.exec(id);
      if (find) {
        const args = parseFunctionArgs(find[1]!);
        return args ? { api: 'machines/findbyip', args, count } : undefined;
      }
      return count ? undefined : { api: 'machines/{id}', id, count };
    }
    if (r === 'alerts') return { api: 'machines/{id}/alerts', id, count };
    if (r === 'logonusers') return { api: 'machines/{id}/logonusers', id, count };
    return undefined;
  }
  if (c === 'alerts') {
    if (id === undefined) return { api: 'alerts', count };
    if (count) return undefined;
    if (relation === undefined) return { api: 'alerts/{id}', id, count };
    if (r === 'user') return { api: 'alerts/{id}/user', id, count };
    if (r === 'machine') return { api: 'alerts/{id}/machine', id, count };
    return undefined;
  }
  if (c === 'users' && id !== undefined) {
    if (r === 'machines') return { api: 'users/{id}/machines', id, count };
    if (r === 'alerts') return { api: 'users/{id}/alerts', id, count };
  }
  return undefined;
}

/**
 * The write a request makes, if it is one: `PATCH /api/alerts/{id}`, or `POST /api/alerts/batchUpdate` (which
 * `matchRoute` reads as the alert `batchUpdate`). Any other method on a read route is not a write.
 */
export function matchWrite(method: string, route: RouteMatch | undefined): SimulatorWriteApi | undefined {
  if (route?.api !== 'alerts/{id}') return undefined;
  if (method === 'PATCH') return 'PATCH alerts/{id}';
  if (method === 'POST' && route.id?.toLowerCase() === 'batchupdate') return 'POST alerts/batchUpdate';
  return undefined;
}

/** `ip='10.0.0.1',timestamp=2026-11-01T00:00:00Z` → `{ ip, timestamp }`; undefined when malformed. */
function parseFunctionArgs(text: string): Record<string, string> | undefined {
  const args: Record<string, string> = {};
  for (const part of text.split(',')) {
    const match = FUNCTION_ARG.exec(part);
    if (!match) return undefined;
    args[match[1]!.toLowerCase()] = match[2] !== undefined ? match[2].replaceAll("''", "'") : match[3]!;
  }
  return args;
}
