import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * The messages between `bench/overhead.ts` and the server it measures in a child process: the child answers
 * on loopback and reports its memory, so the load generator in the parent does not share its CPU or heap.
 */

/** One memory reading of the server process (bytes), at `at` (ms since epoch). */
export interface MemorySample {
  readonly at: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  /** Event-loop delay since the previous sample (perf_hooks' `monitorEventLoopDelay`, ms): mean and most. */
  readonly lagMeanMs?: number;
  readonly lagMaxMs?: number;
}

/** Parent → child. `start` carries what the server needs; `gc` asks for a collection and a reading. */
export type ToServer<Start> = { readonly type: 'start'; readonly config: Start } | { readonly type: 'gc' };

/** Child → parent. */
export type FromServer =
  | { readonly type: 'ready'; readonly url: string }
  | { readonly type: 'sample'; readonly sample: MemorySample }
  | { readonly type: 'rest'; readonly sample: MemorySample; readonly gcExposed: boolean };

/** How often the child reports its memory (ms). */
export const SAMPLE_EVERY_MS = 250;

/**
 * The child's side: waits for `start`, starts the server with its config, then reports `ready`, a memory
 * sample every {@link SAMPLE_EVERY_MS}, and a reading after a full GC whenever asked.
 */
export function serveInChild<Start>(start: (config: Start) => Promise<string>): void {
  // Once the parent has disconnected (bench/overhead.ts stops a child that way) a sample still due is dropped,
  // not written to a closed channel (EPIPE, an unhandled 'error' on the way out).
  const send = (message: FromServer) => {
    // A write already under way when the parent disconnects fails with EPIPE: told to the callback, it is not an
    // unhandled 'error' on the process.
    if (process.connected) process.send?.(message, undefined, {}, () => {});
  };
  if (!process.send) throw new Error('bench: this server runs as a child of bench/overhead.ts (IPC needed)');
  process.on('message', (message: ToServer<Start>) => {
    if (message.type === 'start') {
      start(message.config).then(
        (url) => {
          send({ type: 'ready', url });
          const lag = monitorEventLoopDelay({ resolution: 10 });
          lag.enable();
          setInterval(() => {
            // The histogram is in ns, and starts again for each sample.
            const lagged = lag.count > 0 ? { lagMeanMs: lag.mean / 1e6, lagMaxMs: lag.max / 1e6 } : {};
            lag.reset();
            send({ type: 'sample', sample: { ...readMemory(), ...lagged } });
          }, SAMPLE_EVERY_MS).unref();
        },
        (error: unknown) => {
          console.error('bench: server failed to start', error);
          process.exit(1);
        },
      );
    } else {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      send({ type: 'rest', sample: readMemory(), gcExposed: gc !== undefined });
    }
  });
  // The parent went away (or killed us): nothing left to serve.
  process.on('disconnect', () => process.exit(0));
}

function readMemory(): MemorySample {
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
  return { at: Date.now(), rss, heapUsed, heapTotal, external };
}
