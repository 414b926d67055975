import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/ops/logger.js';
import { shutdown } from '../../../src/ops/shutdown.js';

describe('shutdown()', () => {
  /** A logger whose lines are kept, parsed. */
  function capturedLogger() {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    return { logger: createLogger('info', stream), lines };
  }

  /** What shutdown() closes, each recording its step in order. */
  function recordedTargets() {
    const steps: string[] = [];
    const targets = {
      server: {
        markDraining: () => void steps.push('draining'),
        close: async () => void steps.push('server closed'),
        forceCloseConnections: () => void steps.push('forced'),
      },
      limiter: { close: () => void steps.push('waiters released') },
      closeOthers: async () => void steps.push('simulator closed'),
      logger: capturedLogger().logger,
    };
    return { steps, targets };
  }

  it('fails readiness and releases waiters before it waits for requests, then closes the rest', async () => {
    const { steps, targets } = recordedTargets();
    await shutdown(targets, 'SIGTERM');
    expect(steps).toEqual(['draining', 'waiters released', 'server closed', 'simulator closed']);
  });

  it('keeps the listener open and the waiters queued for the readiness delay, then closes', async () => {
    const { steps, targets } = recordedTargets();
    vi.useFakeTimers();
    try {
      const stopped = shutdown(targets, 'SIGTERM', { readinessDelayMs: 3_000 });
      await vi.advanceTimersByTimeAsync(2_999);
      expect(steps).toEqual(['draining']);
      await vi.advanceTimersByTimeAsync(1);
      await stopped;
      expect(steps).toEqual(['draining', 'waiters released', 'server closed', 'simulator closed']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('closes open connections once the grace period is over', async () => {
    const { logger, lines } = capturedLogger();
    let release = () => {};
    const started = Date.now();
    await shutdown(
      {
        server: {
          markDraining: () => {},
          close: () => new Promise<void>((done) => (release = done)),
          forceCloseConnections: () => release(),
        },
        limiter: { close: () => {} },
        logger,
      },
      'SIGTERM',
      { gracePeriodMs: 50 },
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(lines.at(-1)).toMatchObject({ msg: 'defender-graph: stopped', forced: true });
  });
});
