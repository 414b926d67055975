import { parseRateLimits } from '../src/rate-limit/windows.js';
import { startBenchGateway } from './gateway.js';
import type { GatewayChildConfig } from './serve-gateway.js';
import { serveInChild } from './serve-protocol.js';

/** What bench/load.ts gives its gateway child: bench/serve-gateway.ts's config, plus the operation limits. */
export interface LoadGatewayChildConfig extends GatewayChildConfig {
  /** How long an operation may queue for the rate limiter (ms). */
  readonly requestDeadlineMs: number;
  /** Most Defender calls one operation may need (MAX_OPERATION_CALLS). */
  readonly maxOperationCalls: number;
  /** CACHE_MAX_MB. Default: the gateway's default. */
  readonly cacheMaxMb?: number;
}

/** The real gateway in its own process, with the deadline and per-operation cap chosen by the load section. */
serveInChild<LoadGatewayChildConfig>(async (config) => {
  const gateway = await startBenchGateway({
    simulatorUrl: config.simulatorUrl,
    rateLimits: parseRateLimits(config.rateLimits),
    requestDeadlineMs: config.requestDeadlineMs,
    cacheTtlMs: config.cacheTtlMs,
    responseCache: config.responseCache,
    maxOperationCalls: config.maxOperationCalls,
    ...(config.cacheMaxMb !== undefined && { cacheMaxMb: config.cacheMaxMb }),
  });
  return gateway.url;
});
