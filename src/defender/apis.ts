/**
 * The Defender read APIs this project knows (`docs/defender-api.md` §2, routes #1–#12), named by their route
 * template. Defender throttles per API, so the template is also the key of every rate-limit bucket.
 */
export const DEFENDER_READ_APIS = [
  'machines',
  'machines/{id}',
  'machines/{id}/alerts',
  'machines/{id}/logonusers',
  'alerts',
  'alerts/{id}',
  'alerts/{id}/user',
  'alerts/{id}/machine',
  'users/{id}/machines',
  'users/{id}/alerts',
  'machines/findbytag',
  'machines/findbyip',
] as const;

export type DefenderReadApi = (typeof DEFENDER_READ_APIS)[number];

/**
 * The Defender REST APIs on `DEFENDER_RATE_LIMITS` (100/min, 1,500/h each): the reads, and `PATCH alerts/{id}`
 * (§9), which Defender throttles as an API of its own with the reads' limits, so writes never wait behind reads
 * or their refreshes.
 */
export const DEFENDER_RATE_LIMITED_APIS = [...DEFENDER_READ_APIS, 'alerts/{id}:patch'] as const;

/** `POST alerts/batchUpdate` (§9): many alerts in one write, on a budget of its own (10/min, 500/h). */
export const BATCH_UPDATE_API = 'alerts/batchUpdate' as const;

/** Every Defender REST API the gateway calls: the reads and both alert writes. */
export const DEFENDER_APIS = [...DEFENDER_RATE_LIMITED_APIS, BATCH_UPDATE_API] as const;

/** Advanced hunting through Microsoft Graph (`docs/defender-api.md` §8): not a REST route, but throttled, broken
 * and counted as an API of its own. */
export const HUNTING_API = 'hunting' as const;

/** Every API the gateway calls: the REST routes, then advanced hunting. */
export const UPSTREAM_APIS = [...DEFENDER_APIS, HUNTING_API] as const;

/** A Defender REST route template (a read, or the alert PATCH). */
export type RestApi = (typeof DEFENDER_APIS)[number];
/** Anything the limiter, the breaker and the metrics key by: a REST route or `hunting`. */
export type DefenderApi = (typeof UPSTREAM_APIS)[number];

/** Every documented read API allows this many calls per window, per application and tenant. */
export const DEFENDER_DEFAULT_RATE_LIMITS = '100/60s,1500/3600s';

/** `POST alerts/batchUpdate`'s documented budget (`docs/defender-api.md` §9), shared like every other. */
export const BATCH_UPDATE_RATE_LIMITS = '10/60s,500/3600s';

/** Advanced hunting's documented budget (`docs/defender-api.md` §8, "Quotas"). */
export const HUNTING_DEFAULT_RATE_LIMITS = '45/60s,1500/3600s';
