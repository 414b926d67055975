import { HUNTING_DEFAULT_RATE_LIMITS } from '../defender/apis.js';
import type { RateLimitWindow } from '../rate-limit/windows.js';
import { parseRateLimits } from '../rate-limit/windows.js';
import type { EnvReader } from './env.js';
import { secureUrl } from './env.js';

/** How relationship levels are planned: `auto` picks REST or advanced hunting by cost, `rest` never hunts. */
export type DefenderPlans = 'auto' | 'rest';

/** Advanced hunting through Microsoft Graph (`docs/defender-api.md` §8). */
export interface HuntingConfig {
  /**
   * `GRAPH_API_URL`: Microsoft Graph's base URL, without `/v1.0`. Default https://graph.microsoft.com with a
   * real Defender; undefined with the embedded simulator, which serves Graph's hunting route itself.
   */
  readonly graphUrl: URL | undefined;
  /** `GRAPH_SCOPE`: the scope asked of MSAL for Graph. Default https://graph.microsoft.com/.default. */
  readonly graphScope: string;
  /** `HUNTING_RATE_LIMITS`: hunting's own windows, all at once. Default 45/60 s and 1,500/3,600 s. */
  readonly rateLimits: readonly RateLimitWindow[];
  /** `DEFENDER_PLANS`. Default `auto`. */
  readonly plans: DefenderPlans;
}

export const DEFAULT_GRAPH_URL = 'https://graph.microsoft.com';
export const DEFAULT_GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

export function parseHunting(reader: EnvReader, realDefender: boolean): HuntingConfig {
  const { read, fail } = reader;
  const rawUrl = read('GRAPH_API_URL');
  let graphUrl: URL | undefined;
  if (rawUrl !== undefined) {
    graphUrl = secureUrl(reader, 'GRAPH_API_URL', rawUrl);
    if (graphUrl.username || graphUrl.password || graphUrl.search || graphUrl.hash)
      fail('GRAPH_API_URL', 'must not carry credentials, a query or a fragment');
    if (/\/(v1\.0|beta)\/?$/.test(graphUrl.pathname))
      fail('GRAPH_API_URL', 'give the base URL without /v1.0');
  } else if (realDefender) {
    graphUrl = new URL(DEFAULT_GRAPH_URL);
  }
  const graphScope = read('GRAPH_SCOPE') ?? DEFAULT_GRAPH_SCOPE;
  if (!/^\S+$/.test(graphScope))
    fail('GRAPH_SCOPE', 'expected one scope, such as https://graph.microsoft.com/.default');
  let rateLimits: RateLimitWindow[] = [];
  try {
    rateLimits = parseRateLimits(read('HUNTING_RATE_LIMITS') ?? HUNTING_DEFAULT_RATE_LIMITS);
  } catch (error) {
    fail('HUNTING_RATE_LIMITS', (error as Error).message);
  }
  const plans = read('DEFENDER_PLANS') ?? 'auto';
  if (plans !== 'auto' && plans !== 'rest') fail('DEFENDER_PLANS', 'expected "auto" or "rest"');
  return { graphUrl, graphScope, rateLimits, plans: plans as DefenderPlans };
}
