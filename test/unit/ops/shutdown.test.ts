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

  it('fails readiness and releases waiters before it waits for requests, then closes the rest', async () => {
    const { logger } = capturedLogger();
    const steps: string[] = [];
    await shutdown(
      {
        server: {
          markDraining: () => steps.push('draining'),
          close: async () => void steps.push('server closed'),
          forceCloseConnections: () => steps.push('forced'),
        },
        limiter: { close: () => steps.push('waiters released') },
        closeOthers: async () => void steps.push('simulator closed'),
        logger,
      },
      'SIGTERM',
    );
    expect(steps).toEqual(['draining', 'waiters released', 'server closed', 'simulator closed']);
  });

  it('keeps the listener open and the waiters queued for the readiness delay, then closes', async () => {
    const { logger } = capturedLogger();
    const steps: string[] = [];
    vi.useFakeTimers();
    try {
      const stopped = shutdown(
        {
          server: {
            markDraining: () => steps.push('draining'),
            close: async () => void steps.push('server closed'),
            forceCloseConnections: () => steps.push('forced'),
          },
          limiter: { close: () => steps.push('waiters released') },
          closeOthers: async () => void steps.push('simulator closed'),
          logger,
        },
        'SIGTERM',
        { readinessDelayMs: 3_000 },
      );
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
