import { parseRateLimits } from '../src/rate-limit/windows.js';
import { startBenchGateway } from './gateway.js';
import { serveInChild } from './serve-protocol.js';

/** What the parent gives the gateway child. */
export interface GatewayChildConfig {
  readonly simulatorUrl: string;
  readonly rateLimits: string;
  readonly cacheTtlMs: number;
  readonly responseCache: boolean;
  /** OTEL_EXPORTER_OTLP_ENDPOINT. Default: tracing off. */
  readonly otlpEndpoint?: string;
}

/** The real gateway (`createServer`, fastify, Apollo, DataLoaders, cache, limiter) in its own process. */
serveInChild<GatewayChildConfig>(async (config) => {
  const gateway = await startBenchGateway({
    simulatorUrl: config.simulatorUrl,
    rateLimits: parseRateLimits(config.rateLimits),
    requestDeadlineMs: 15_000,
    cacheTtlMs: config.cacheTtlMs,
    responseCache: config.responseCache,
    ...(config.otlpEndpoint && { otlpEndpoint: config.otlpEndpoint }),
  });
  return gateway.url;
});
