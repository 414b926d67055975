import type { AlertMatcher } from './filter-match.js';
import type { AlertChangeEvent } from './watermark.js';

/** What the source stream of `alertChanges` yields: graphql-js reads the field's value under its name. */
export interface AlertChangePayload {
  readonly alertChanges: AlertChangeEvent;
}

/** Events one subscriber may have waiting; past it, the subscriber is ended with an error. */
export const MAX_PENDING_EVENTS = 1_000;

/**
 * One subscriber's source stream: the hub pushes the payloads its filter matches, the transport pulls them in
 * order, one at a time. Little is held while idle (a filter, an empty queue), so idle subscribers stay cheap.
 * Ending it (the client unsubscribed, disconnected, or the server stops) tells the hub once, through `onEnd`.
 */
export class Subscriber implements AsyncIterableIterator<AlertChangePayload> {
  readonly #queue: AlertChangePayload[] = [];
  #waiting: ((result: IteratorResult<AlertChangePayload>) => void) | undefined;
  #failWaiting: ((error: unknown) => void) | undefined;
  #failure: unknown;
  #done = false;

  constructor(
    readonly matches: AlertMatcher,
    private readonly onEnd: (subscriber: Subscriber) => void,
  ) {}

  /** Queues a payload for the transport; a subscriber too far behind is ended with an error instead. */
  push(payload: AlertChangePayload): void {
    if (this.#done) return;
    if (this.#waiting) {
      const resolve = this.#waiting;
      this.#waiting = this.#failWaiting = undefined;
      resolve({ value: payload, done: false });
      return;
    }
    if (this.#queue.length >= MAX_PENDING_EVENTS) {
      this.fail(new Error(`the subscriber fell ${MAX_PENDING_EVENTS} events behind`));
      return;
    }
    this.#queue.push(payload);
  }

  /** Ends the stream after what is queued (graceful shutdown: the transport completes it). */
  end(): void {
    if (this.#done) return;
    this.#done = true;
    this.onEnd(this);
    if (this.#waiting && this.#queue.length === 0) {
      const resolve = this.#waiting;
      this.#waiting = this.#failWaiting = undefined;
      resolve({ value: undefined, done: true });
    }
  }

  /** Ends the stream with an error, dropping what is queued. */
  fail(error: unknown): void {
    if (this.#done) return;
    this.#queue.length = 0;
    const reject = this.#failWaiting;
    this.#waiting = this.#failWaiting = undefined;
    if (reject) reject(error);
    else this.#failure = error;
    this.end();
  }

  next(): Promise<IteratorResult<AlertChangePayload>> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve({ value: queued, done: false });
    if (this.#failure !== undefined) {
      const error = this.#failure;
      this.#failure = undefined;
      return Promise.reject(error);
    }
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.#waiting = resolve;
      this.#failWaiting = reject;
    });
  }

  /** The consumer stopped (unsubscribe, disconnect): the hub forgets this subscriber at once. */
  return(): Promise<IteratorResult<AlertChangePayload>> {
    this.#queue.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<AlertChangePayload>> {
    this.fail(error);
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
