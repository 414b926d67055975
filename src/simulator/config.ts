import { DEFENDER_DEFAULT_RATE_LIMITS } from '../defender/apis.js';
import type { RateLimitWindow } from '../rate-limit/windows.js';
import { parseRateLimits } from '../rate-limit/windows.js';
import type { SimulatorClock } from './change-clock.js';
import type { TenantSizes } from './data.js';

/** A bearer token the simulator accepts, and what it may see. */
export interface SimulatorToken {
  readonly token: string;
  /** Identity throttled as one caller (Defender: tenant + application). Default: the token itself. */
  readonly caller?: string;
  /** Device groups (`rbacGroupId`) this token sees, as a delegated token would; absent means every group. */
  readonly rbacGroupIds?: readonly number[];
  /**
   * Who writes with this token: the `createdBy` of the comments it posts (`docs/defender-api.md` §9), a UPN
   * for a person's token or an application's name. Default `simulator-app` (never the token itself).
   */
  readonly principal?: string;
}

export interface SimulatorOptions {
  /** The same seed gives the same tenant, byte for byte. Default 1. */
  readonly seed: number;
  readonly sizes?: Partial<TenantSizes>;
  /** The tenant's "now": every generated date is before it. Default 2026-11-01T00:00:00Z. */
  readonly tenantNow?: Date;
  readonly tokens: readonly SimulatorToken[];
  /** Throttling windows, applied per route template and caller. Default 100/60s and 1,500/3,600s. */
  readonly rateLimits: readonly RateLimitWindow[];
  /** Added before every answer. Default 30 ms. */
  readonly latencyMs: number;
  /**
   * Throttling of advanced hunting (`POST /v1.0/security/runHuntingQuery`), per caller, every window at once.
   * Default 45/60s and 1,500/3,600s (`docs/defender-api.md` §8).
   */
  readonly huntingRateLimits: readonly RateLimitWindow[];
  /** Added before every hunting answer, which is slower than a REST read. Default ten times `latencyMs` (300 ms). */
  readonly huntingLatencyMs?: number;
  /** Page size when `$top` is absent. Default 10,000, as Defender. */
  readonly pageSize: number;
  /** Enables `/_simulator/*` (call log, faults) for callers sending `x-simulator-admin: <token>`. */
  readonly adminToken?: string;
  /**
   * Throttling of `POST /api/alerts/batchUpdate`, per caller, every window at once. Default 10/60s and
   * 500/3,600s (`docs/defender-api.md` §9). `PATCH /api/alerts/{id}` keeps to `rateLimits`, in its own bucket.
   */
  readonly batchUpdateRateLimits: readonly RateLimitWindow[];
  /**
   * Background changes to alerts, for demos: this many a minute, each creating an alert or moving one along
   * its triage, chosen from the seed. Default 0 (off). At most `MAX_ALERT_CHANGES_PER_MINUTE`.
   */
  readonly alertChangesPerMinute?: number;
  /**
   * Where the simulator reads the time (ms since the epoch): its "now" is `tenantNow` plus the time this clock
   * has moved since the simulator started, and its throttle and call log use it too. Default the system clock.
   */
  readonly clock?: SimulatorClock;
}

export const DEFAULT_SIMULATOR_TOKEN = 'simulator-token';
/** The `createdBy` of a token without a `principal`. */
export const DEFAULT_PRINCIPAL = 'simulator-app';
/** `POST /api/alerts/batchUpdate`'s documented budget (`docs/defender-api.md` §9). */
export const DEFAULT_BATCH_UPDATE_RATE_LIMITS = '10/60s,500/3600s';
/** Past this, background changes would be a load test rather than a demo (one every 10 ms). */
export const MAX_ALERT_CHANGES_PER_MINUTE = 6000;
export const DEFAULT_LATENCY_MS = 30;
/** Advanced hunting's documented budget (`docs/defender-api.md` §8). */
export const DEFAULT_HUNTING_RATE_LIMITS = '45/60s,1500/3600s';
/** Hunting answers take this many times `latencyMs` unless `huntingLatencyMs` says otherwise. */
export const HUNTING_LATENCY_FACTOR = 10;

export function simulatorOptions(overrides: Partial<SimulatorOptions> = {}): SimulatorOptions {
  return {
    seed: 1,
    tokens: [{ token: DEFAULT_SIMULATOR_TOKEN }],
    rateLimits: parseRateLimits(DEFENDER_DEFAULT_RATE_LIMITS),
    latencyMs: DEFAULT_LATENCY_MS,
    huntingRateLimits: parseRateLimits(DEFAULT_HUNTING_RATE_LIMITS),
    pageSize: 10_000,
    batchUpdateRateLimits: parseRateLimits(DEFAULT_BATCH_UPDATE_RATE_LIMITS),
    ...overrides,
  };
}

export interface StandaloneConfig {
  readonly host: string;
  readonly port: number;
  readonly options: SimulatorOptions;
}

/**
 * Reads the standalone simulator's configuration from the environment. A bad value throws an Error that
 * names the variable.
 *
 * `SIMULATOR_TOKENS` adds tokens limited to device groups: `token:41|42,other:43` (a token without
 * `:groups`, or with empty groups, sees everything), optionally naming who writes with them:
 * `alice-token:41|42:alice@contoso.com`, `app-token::triage-app`.
 */
export function readSimulatorEnv(env: NodeJS.ProcessEnv = process.env): StandaloneConfig {
  const int = (name: string, fallback: number, min = 0): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min)
      throw new Error(`${name}: expected an integer ≥ ${min}, got "${raw}"`);
    return value;
  };
  const limits = env['SIMULATOR_RATE_LIMITS'] ?? DEFENDER_DEFAULT_RATE_LIMITS;
  let rateLimits: RateLimitWindow[];
  try {
    rateLimits = parseRateLimits(limits);
  } catch (error) {
    throw new Error(`SIMULATOR_RATE_LIMITS: ${(error as Error).message}`, { cause: error });
  }
  let huntingRateLimits: RateLimitWindow[];
  try {
    huntingRateLimits = parseRateLimits(env['SIMULATOR_HUNTING_RATE_LIMITS'] ?? DEFAULT_HUNTING_RATE_LIMITS);
  } catch (error) {
    throw new Error(`SIMULATOR_HUNTING_RATE_LIMITS: ${(error as Error).message}`, { cause: error });
  }
  let batchUpdateRateLimits: RateLimitWindow[];
  try {
    batchUpdateRateLimits = parseRateLimits(
      env['SIMULATOR_BATCH_UPDATE_RATE_LIMITS'] ?? DEFAULT_BATCH_UPDATE_RATE_LIMITS,
    );
  } catch (error) {
    throw new Error(`SIMULATOR_BATCH_UPDATE_RATE_LIMITS: ${(error as Error).message}`, { cause: error });
  }
  const alertChangesPerMinute = int('SIMULATOR_ALERT_CHANGES_PER_MINUTE', 0);
  if (alertChangesPerMinute > MAX_ALERT_CHANGES_PER_MINUTE) {
    throw new Error(
      `SIMULATOR_ALERT_CHANGES_PER_MINUTE: expected at most ${MAX_ALERT_CHANGES_PER_MINUTE}, got ${alertChangesPerMinute}`,
    );
  }
  const huntingLatency = env['SIMULATOR_HUNTING_LATENCY_MS'];
  const tokens: SimulatorToken[] = [{ token: env['SIMULATOR_TOKEN'] || DEFAULT_SIMULATOR_TOKEN }];
  for (const entry of (env['SIMULATOR_TOKENS'] ?? '').split(',').filter((e) => e.trim() !== '')) {
    const [token, groups, principal, ...rest] = entry.trim().split(':');
    const ids = groups ? groups.split('|').map(Number) : undefined;
    if (!token || rest.length > 0 || principal === '' || (ids && ids.some((n) => !Number.isInteger(n)))) {
      throw new Error(
        `SIMULATOR_TOKENS: expected "token", "token:41|42" or "token:41|42:principal", got "${entry}"`,
      );
    }
    tokens.push({ token, ...(ids ? { rbacGroupIds: ids } : {}), ...(principal ? { principal } : {}) });
  }
  const now = env['SIMULATOR_NOW'];
  if (now !== undefined && Number.isNaN(Date.parse(now))) {
    throw new Error(`SIMULATOR_NOW: expected an ISO-8601 date-time, got "${now}"`);
  }
  const sizes: Partial<TenantSizes> = {};
  if (env['SIMULATOR_MACHINES']) sizes.machines = int('SIMULATOR_MACHINES', 1000, 1);
  if (env['SIMULATOR_USERS']) sizes.users = int('SIMULATOR_USERS', 300, 1);
  if (env['SIMULATOR_ALERTS']) sizes.alerts = int('SIMULATOR_ALERTS', 5000, 1);
  const adminToken = env['SIMULATOR_ADMIN_TOKEN'];
  return {
    host: env['SIMULATOR_HOST'] || '127.0.0.1',
    port: int('SIMULATOR_PORT', 4010),
    options: simulatorOptions({
      seed: int('SIMULATOR_SEED', 1),
      sizes,
      ...(now ? { tenantNow: new Date(now) } : {}),
      tokens,
      rateLimits,
      latencyMs: int('SIMULATOR_LATENCY_MS', DEFAULT_LATENCY_MS),
      huntingRateLimits,
      ...(huntingLatency ? { huntingLatencyMs: int('SIMULATOR_HUNTING_LATENCY_MS', 0) } : {}),
      pageSize: int('SIMULATOR_PAGE_SIZE', 10_000, 1),
      ...(adminToken ? { adminToken } : {}),
      batchUpdateRateLimits,
      ...(alertChangesPerMinute > 0 ? { alertChangesPerMinute } : {}),
    }),
  };
}
