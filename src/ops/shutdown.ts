import type { Logger } from './logger.js';

/** Default of SHUTDOWN_READINESS_DELAY_MS. */
export const DEFAULT_READINESS_DELAY_MS = 3_000;
/** How long in-flight requests may take to finish once the listener is closed (ms). */
export const SHUTDOWN_GRACE_MS = 10_000;
/** What closing the rest (Redis, the embedded simulator) may take after the grace period (ms). */
const CLOSE_OTHERS_MS = 10_000;

/**
 * How long after the signal the process exits whatever happens (ms): the readiness delay, the grace period and
 * the closing of the rest. An orchestrator's own grace period (Kubernetes' terminationGracePeriodSeconds, after
 * its preStop hook) must be longer, or it kills the process mid-drain.
 */
export function shutdownDeadlineMs(readinessDelayMs: number): number {
  return readinessDelayMs + SHUTDOWN_GRACE_MS + CLOSE_OTHERS_MS;
}

/** What shutdown stops, in order. */
export interface ShutdownTargets {
  readonly server: {
    markDraining(): void;
    /** Stops listening and resolves once in-flight requests have finished. */
    close(): Promise<void>;
    /** Destroys every open connection (their requests are aborted, with their upstream calls). */
    forceCloseConnections(): void;
  };
  /** Rejects every queued waiter with a retryable RATE_LIMITED (retryAfterSeconds). */
  readonly limiter: { close(): void };
  /** Closes what else the process started (the embedded simulator). */
  readonly closeOthers?: () => Promise<void>;
  readonly logger: Logger;
}

export interface ShutdownOptions {
  /**
   * How long `/readyz` answers 503 while the listener stays open and requests are still served, before the
   * server closes (ms): load balancers that poll readiness stop sending first. Default 0.
   */
  readonly readinessDelayMs?: number;
  /** How long in-flight requests may take to finish before their connections are closed (ms). Default 10,000. */
  readonly gracePeriodMs?: number;
}

/**
 * The graceful stop on SIGTERM or SIGINT: readiness fails at once, while the listener stays open and requests
 * are served for `readinessDelayMs` (a closed port would make a load balancer see a failure, not a drain);
 * then queued limiter waiters get a retryable error (they could not start in time anyway), the server stops
 * accepting and waits for in-flight requests, for `gracePeriodMs` at most, then closes what is still open; then
 * everything else is closed. Resolves when it is safe to exit 0; never rejects (a failure to close is logged).
 */
export async function shutdown(
  targets: ShutdownTargets,
  reason: string,
  { readinessDelayMs = 0, gracePeriodMs = SHUTDOWN_GRACE_MS }: ShutdownOptions = {},
): Promise<void> {
  const { server, limiter, logger } = targets;
  const started = Date.now();
  logger.info({ reason, readinessDelayMs, gracePeriodMs }, 'defender-graph: shutting down');
  server.markDraining();
  if (readinessDelayMs > 0) await new Promise((done) => setTimeout(done, readinessDelayMs));
  limiter.close();

  let forced = false;
  const timer = setTimeout(() => {
    forced = true;
    logger.warn({ gracePeriodMs }, 'defender-graph: grace period over, closing open connections');
    server.forceCloseConnections();
  }, gracePeriodMs);
  try {
    await server.close();
    await targets.closeOthers?.();
  } catch (error) {
    logger.error({ err: { name: (error as Error).name } }, 'defender-graph: a part failed to close');
  } finally {
    clearTimeout(timer);
  }
  logger.info({ durationMs: Date.now() - started, forced }, 'defender-graph: stopped');
}
