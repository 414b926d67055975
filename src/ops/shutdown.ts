import type { Logger } from './logger.js';

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
  /** How long in-flight requests may take to finish before their connections are closed (ms). Default 10,000. */
  readonly gracePeriodMs?: number;
}

/**
 * The graceful stop on SIGTERM or SIGINT: readiness fails at once, queued limiter waiters get a retryable
 * error at once (they could not start anyway), the server stops accepting and waits for in-flight requests,
 * for `gracePeriodMs` at most, then closes what is still open; then everything else is closed. Resolves when
 * it is safe to exit 0; never rejects (a failure to close is logged).
 */
export async function shutdown(
  targets: ShutdownTargets,
  reason: string,
  { gracePeriodMs = 10_000 }: ShutdownOptions = {},
): Promise<void> {
  const { server, limiter, logger } = targets;
  const started = Date.now();
  logger.info({ reason, gracePeriodMs }, 'defender-graph: shutting down');
  server.markDraining();
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
