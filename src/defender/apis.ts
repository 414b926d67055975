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
 * Every Defender API the gateway calls: the reads, and `PATCH alerts/{id}` (§9), which Defender throttles as an
 * API of its own (100/min, 1,500/h, the reads' limits), so writes never wait behind reads or their refreshes.
 */
export const DEFENDER_APIS = [...DEFENDER_READ_APIS, 'alerts/{id}:patch'] as const;

export type DefenderApi = (typeof DEFENDER_APIS)[number];

/** Every documented read API allows this many calls per window, per application and tenant. */
export const DEFENDER_DEFAULT_RATE_LIMITS = '100/60s,1500/3600s';
