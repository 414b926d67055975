import type { ExecutionResult } from 'graphql';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';

/** What one subscription has received so far, as a client sees it. */
export interface Stream<D = Record<string, unknown>> {
  readonly results: ExecutionResult<D>[];
  /** Set when the stream errored (a refusal over WebSocket, a closed connection). */
  error: unknown;
  completed: boolean;
  /** Resolves with the `n`-th result (1-based), or rejects after `timeoutMs`. */
  nth(n: number, timeoutMs?: number): Promise<ExecutionResult<D>>;
  /** Resolves when the stream completes or errors, or rejects after `timeoutMs`. */
  ended(timeoutMs?: number): Promise<void>;
  unsubscribe(): void;
}

export type Transport = 'websocket' | 'sse';

/** A client of either transport, as an application would use it (`graphql-ws` or `graphql-sse` `createClient`). */
export interface LiveClient {
  subscribe<D = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Stream<D>;
  dispose(): Promise<void>;
}

/**
 * A `graphql-ws` client on `ws://…/graphql` (lazy: it connects with its first subscription); `headers` go with
 * its upgrade request (a `traceparent`, say).
 */
export function wsClient(
  baseUrl: string,
  connectionParams?: Record<string, unknown>,
  headers?: Record<string, string>,
): LiveClient {
  const client = createWsClient({
    url: `${baseUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: headers
      ? class extends WebSocket {
          constructor(url: string, protocols?: string | string[]) {
            super(url, protocols, { headers });
          }
        }
      : WebSocket,
    retryAttempts: 0,
    ...(connectionParams && { connectionParams }),
  });
  return {
    subscribe: (query, variables) =>
      stream((sink) => client.subscribe({ query, ...(variables && { variables }) }, sink)),
    dispose: async () => client.dispose(),
  };
}

/** A `graphql-sse` client, distinct connections mode (`POST /graphql`, `Accept: text/event-stream`). */
export function sseClient(baseUrl: string, headers?: Record<string, string>): LiveClient {
  const client = createSseClient({
    url: `${baseUrl}/graphql`,
    retryAttempts: 0,
    ...(headers && { headers }),
  });
  return {
    subscribe: (query, variables) =>
      stream((sink) => client.subscribe({ query, ...(variables && { variables }) }, sink)),
    dispose: async () => client.dispose(),
  };
}

export function liveClient(transport: Transport, baseUrl: string): LiveClient {
  return transport === 'websocket' ? wsClient(baseUrl) : sseClient(baseUrl);
}

interface Sink<T> {
  next(value: T): void;
  error(error: unknown): void;
  complete(): void;
}

function stream<D>(start: (sink: Sink<ExecutionResult<D>>) => () => void): Stream<D> {
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const waiter of waiters) waiter();
  };
  const until = (done: () => boolean, timeoutMs: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      if (done()) return resolve();
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`${what} did not happen within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(check);
    });
  const state: Stream<D> = {
    results: [],
    error: undefined,
    completed: false,
    async nth(n, timeoutMs = 5_000) {
      await until(() => state.results.length >= n || state.completed, timeoutMs, `result ${n}`);
      const result = state.results[n - 1];
      if (!result)
        throw new Error(`the stream ended after ${state.results.length} results: ${String(state.error)}`);
      return result;
    },
    ended: (timeoutMs = 5_000) => until(() => state.completed, timeoutMs, 'the end of the stream'),
    unsubscribe: () => dispose(),
  };
  const dispose = start({
    next(value) {
      state.results.push(value);
      wake();
    },
    error(error) {
      state.error = error;
      state.completed = true;
      wake();
    },
    complete() {
      state.completed = true;
      wake();
    },
  });
  return state;
}

/** Waits until `condition` holds, checking every 10 ms; rejects after `timeoutMs`. */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
