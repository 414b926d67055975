import type { TokenProvider } from '../auth/tokens.js';
import { GatewayError, ErrorCode } from '../errors.js';
import type { AlertDto } from '../defender/types.js';
import type { TraceOrigin } from '../ops/spans.js';
import type { AlertMatcher } from './filter-match.js';
import { compareInstants, instantOf } from './filter-match.js';
import type { AlertChangePayload } from './subscriber.js';
import { Subscriber } from './subscriber.js';
import type { AlertChangeEvent } from './watermark.js';

/** Where one identity's changes come from while it has subscribers: a poller here, or one on another replica. */
export interface ChangeSource {
  /** Stops it; resolves when nothing of it runs any more. */
  stop(): Promise<void>;
}

/** Starts the source of one upstream identity's changes, which calls `deliver` with each tick's changes. */
export type StartSource = (
  identity: string,
  tokens: TokenProvider | undefined,
  deliver: (changes: readonly AlertChangeEvent[]) => void,
) => ChangeSource;

export interface LiveAlertsOptions {
  readonly startSource: StartSource;
  /**
   * Hands changes this replica learnt of itself (its own writes) to the other replicas' subscribers of the
   * identity (through Redis). Default: none (one replica, or each polls for its own).
   */
  readonly publish?: (identity: string, changes: readonly AlertChangeEvent[]) => void;
  /** Most subscriptions at once in this process; one more is RATE_LIMITED. Default 10,000. */
  readonly maxSubscriptions?: number;
}

/** Who a subscription polls as, and what it wants. */
export interface SubscriptionRequest {
  /** The upstream identity (`DefenderClient.identityOf`): one source per identity. */
  readonly identity: string;
  /** The identity's tokens, when it is not the gateway's own (on-behalf-of). */
  readonly tokens?: TokenProvider;
  readonly matches: AlertMatcher;
}

/** One identity's subscribers and the source feeding them. */
interface Group {
  readonly subscribers: Set<Subscriber>;
  /** Each on-behalf-of subscriber's tokens, oldest subscriber first (empty for the gateway's own identity). */
  readonly tokens: Map<Subscriber, TokenProvider>;
  readonly source: ChangeSource;
  /** Hands changes to the subscribers, each alert's version once. */
  readonly deliver: (changes: readonly AlertChangeEvent[]) => void;
}

/** How many alerts' last told versions a group remembers, to tell each version once. */
const REMEMBERED_VERSIONS = 1_000;

/**
 * The fan-out of alert changes: one source per upstream identity, started by its first subscriber and stopped
 * when its last one leaves, whose changes go to every subscriber of that identity whose filter matches, in
 * order. One payload object per change is shared by all of them; each subscriber's transport resolves its own
 * selection from it.
 */
export class LiveAlerts {
  readonly #groups = new Map<string, Group>();
  readonly #startSource: StartSource;
  readonly #publish: LiveAlertsOptions['publish'];
  readonly #max: number;
  readonly #stopping = new Set<Promise<void>>();
  #count = 0;
  #closed = false;

  constructor(options: LiveAlertsOptions) {
    this.#startSource = options.startSource;
    this.#publish = options.publish;
    this.#max = options.maxSubscriptions ?? 10_000;
  }

  /** Subscribers now, over every identity. */
  get subscriptions(): number {
    return this.#count;
  }

  /** Identities with a running source now. */
  get sources(): number {
    return this.#groups.size;
  }

  /** A new subscriber's stream; RATE_LIMITED when the process holds as many as it may, or is shutting down. */
  subscribe(request: SubscriptionRequest): Subscriber {
    if (this.#closed) throw unavailable('The gateway is shutting down; subscribe again in a moment.');
    if (this.#count >= this.#max) {
      throw unavailable(`The gateway holds as many subscriptions as it may (${this.#max}); retry later.`);
    }
    let group = this.#groups.get(request.identity);
    const subscriber = new Subscriber(request.matches, (ended) => this.#leave(request.identity, ended));
    if (!group) {
      const subscribers = new Set<Subscriber>();
      const tokens = new Map<Subscriber, TokenProvider>();
      const deliver = onceEach((changes) => fanOut(subscribers, changes));
      const source = this.#startSource(
        request.identity,
        request.tokens && subscribersTokens(request.tokens, tokens),
        deliver,
      );
      group = { subscribers, tokens, source, deliver };
      this.#groups.set(request.identity, group);
    }
    group.subscribers.add(subscriber);
    if (request.tokens) group.tokens.set(subscriber, request.tokens);
    this.#count++;
    return subscriber;
  }

  /**
   * Alerts this gateway just changed (a write as `identity`): its subscribers are told at once, as UPDATED,
   * without waiting for the next poll, and so are the other replicas' (`publish`). The poll that later finds
   * the same version of an alert does not tell it again. `origin`, the write's span when traced, goes with them.
   */
  announce(identity: string, alerts: readonly AlertDto[], origin?: TraceOrigin): void {
    if (alerts.length === 0) return;
    const changes = alerts.map((alert): AlertChangeEvent => ({
      kind: 'UPDATED',
      alert,
      ...(origin && { origin }),
    }));
    this.#groups.get(identity)?.deliver(changes);
    this.#publish?.(identity, changes);
  }

  /**
   * Graceful shutdown: refuses new subscribers, ends every stream (each transport completes it: `complete` on
   * WebSocket and SSE), and stops every source.
   */
  async close(): Promise<void> {
    this.#closed = true;
    for (const group of [...this.#groups.values()])
      for (const subscriber of group.subscribers) subscriber.end();
    await Promise.all(this.#stopping);
  }

  #leave(identity: string, subscriber: Subscriber): void {
    const group = this.#groups.get(identity);
    if (!group?.subscribers.delete(subscriber)) return;
    group.tokens.delete(subscriber);
    this.#count--;
    if (group.subscribers.size > 0) return;
    this.#groups.delete(identity);
    // A source that fails to stop cleanly has nothing left to deliver to: its failure is no subscriber's concern.
    const stopped = group.source
      .stop()
      .catch(() => {})
      .finally(() => this.#stopping.delete(stopped));
    this.#stopping.add(stopped);
  }
}

/**
 * `deliver`, told each version of an alert (its id and `lastUpdateTime`) once, and never an older one after a
 * newer: a write's announcement and the poll that finds the same change come in either order, from this replica
 * or another. The last {@link REMEMBERED_VERSIONS} alerts told are remembered.
 */
function onceEach(
  deliver: (changes: readonly AlertChangeEvent[]) => void,
): (changes: readonly AlertChangeEvent[]) => void {
  const told = new Map<string, ReturnType<typeof instantOf>>();
  return (changes) => {
    const fresh = changes.filter(({ alert }) => {
      const at = alert.lastUpdateTime ? instantOf(alert.lastUpdateTime) : undefined;
      const last = told.get(alert.id);
      if (at && last && compareInstants(at, last) <= 0) return false;
      told.delete(alert.id);
      if (at) told.set(alert.id, at);
      if (told.size > REMEMBERED_VERSIONS) told.delete(told.keys().next().value!);
      return true;
    });
    if (fresh.length > 0) deliver(fresh);
  };
}

/**
 * The tokens an identity's source polls with: those of its newest subscriber still subscribed, read at every
 * call. On-behalf-of tokens are exchanged from the caller's own token, which expires and goes with its
 * connection; holding the first subscriber's for the source's life would poll with a token its caller no longer
 * presents (and fail once it expired) while other subscribers of the identity hold current ones. The newest holds
 * the token that lasts longest. Once none is left (the source is stopping), the last one read.
 */
function subscribersTokens(
  first: TokenProvider,
  bySubscriber: ReadonlyMap<Subscriber, TokenProvider>,
): TokenProvider {
  let latest = first;
  return {
    identity: first.identity,
    getToken: (signal) => {
      for (const tokens of bySubscriber.values()) latest = tokens;
      return latest.getToken(signal);
    },
  };
}

/** Each change, in order, to every subscriber whose filter it passes. */
function fanOut(subscribers: ReadonlySet<Subscriber>, changes: readonly AlertChangeEvent[]): void {
  for (const change of changes) {
    const payload: AlertChangePayload = { alertChanges: change };
    for (const subscriber of subscribers) if (subscriber.matches(change.alert)) subscriber.push(payload);
  }
}

function unavailable(message: string): GatewayError {
  return new GatewayError(ErrorCode.RateLimited, message, { retryAfterSeconds: 5 });
}
