import type { CallScope, DefenderClient } from '../defender/client.js';
import type { UpstreamLimiter } from '../rate-limit/limiter.js';
import type { CostEstimate } from '../planner/estimate.js';
import type { Loaders } from './loaders.js';
import type { CachedResponse } from '../cache/response-cache.js';

/** What every resolver gets for one operation. */
export interface GraphQLContext {
  readonly loaders: Loaders;
  readonly client: DefenderClient;
  /** This operation's upstream spending, deadline and cancellation. */
  readonly scope: CallScope;
  readonly limiter: UpstreamLimiter;
  /** Cap on `first`. */
  readonly maxPageSize: number;
  /** What the operation can cost, estimated before execution. */
  estimate?: CostEstimate;
  /** Where this operation's result is kept in the response cache, when it may be. */
  responseKey?: string;
  /** A stored result this operation is answered with, without executing. */
  cachedResponse?: CachedResponse;
}
