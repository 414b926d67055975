import type { CallScope, DefenderClient, DefenderRequest } from '../defender/client.js';
import { newStats } from '../defender/client.js';
import { isDateTime } from '../defender/date-time.js';
import type { AlertDto, ODataCollection } from '../defender/types.js';
import type { TokenProvider } from '../auth/tokens.js';
import type { LiveTracing, PollTrace } from '../ops/live-tracing.js';
import type { PollBudget } from './poll-budget.js';
import type { AlertChangeEvent, Watermark } from './watermark.js';
import { EPOCH_WATERMARK, changesIn, watermarkAt } from './watermark.js';

/** Where a poller keeps its watermark between ticks (in memory, or in Redis for the replica that takes over). */
export interface WatermarkStore {
  load(): Promise<Watermark | undefined>;
  save(watermark: Watermark): Promise<void>;
}

/** A store in this process: what a poller saw is forgotten when it stops, since nobody is subscribed then. */
export function memoryWatermarks(): WatermarkStore {
  let kept: Watermark | undefined;
  return {
    load: async () => kept,
    save: async (watermark) => {
      kept = watermark;
    },
  };
}

/** How one poll tick went, for metrics: changes found, nothing new, skipped (budget), or failed. */
export type PollOutcome = 'changes' | 'empty' | 'skipped' | 'failed';

export interface AlertPollerOptions {
  readonly client: DefenderClient;
  /** The identity calls go out as (on-behalf-of a caller); absent, the gateway's own. */
  readonly tokens?: TokenProvider;
  readonly budget: PollBudget;
  /** Time between ticks (ms): `ALERT_POLL_SECONDS`. */
  readonly intervalMs: number;
  /** Alerts per call; a tick that finds a full page asks for the next one. Default 100. */
  readonly pageSize?: number;
  /** Most calls one tick makes; what is left is found by the next tick. Default 10. */
  readonly maxPagesPerTick?: number;
  readonly watermarks?: WatermarkStore;
  /** The changes of one tick, oldest first; called once per tick that found any. Must not throw. */
  readonly onChanges: (changes: readonly AlertChangeEvent[]) => void;
  /** How each tick went, with the calls it sent. Must not throw. */
  readonly onTick?: (outcome: PollOutcome, calls: number) => void;
  /** A tick that failed (the next tick tries again). Must not throw. */
  readonly onError?: (error: unknown) => void;
  /** Traces each tick as a span, with its calls' spans and its changes linking to it. Default: not traced. */
  readonly tracing?: LiveTracing;
}

/** The fair-share name polls queue under in the limiter, should they ever queue. */
const POLL_CALLER = 'live:alert-poller';

/**
 * One upstream identity's poll of Defender's alerts (docs/defender-api.md §10): a tick per interval asks for
 * the alerts whose `lastUpdateTime` is at or after the watermark, oldest first, a page at a time, primes each
 * into the cache as `alerts/{id}` (so subscribers' selections and later queries read it without a call), and
 * hands the changes over. The first tick only finds the watermark (the newest alert). Ticks keep a fixed rate;
 * a tick whose call cannot go before the next one (clients keep the budget busy, or polling spent its share) is
 * skipped. Runs from `start()` to `stop()`.
 */
export class AlertPoller {
  readonly #options: AlertPollerOptions;
  readonly #watermarks: WatermarkStore;
  #timer: NodeJS.Timeout | undefined;
  #abort: AbortController | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;

  constructor(options: AlertPollerOptions) {
    this.#options = options;
    this.#watermarks = options.watermarks ?? memoryWatermarks();
  }

  /** Starts ticking now. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#abort = new AbortController();
    this.#schedule(0);
  }

  /** Stops ticking, and abandons a tick in flight (its call is aborted). Resolves when no tick runs. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#abort?.abort(new Error('the poller stopped'));
    await this.#running;
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      const startedAt = Date.now();
      this.#running = this.#tick(startedAt + this.#options.intervalMs).finally(() => {
        this.#running = undefined;
        if (!this.#stopped) this.#schedule(Math.max(0, startedAt + this.#options.intervalMs - Date.now()));
      });
    }, delayMs);
  }

  /** One tick: every page of changes since the watermark, or the watermark itself the first time. */
  async #tick(nextTick: number): Promise<void> {
    const { onTick, onError } = this.#options;
    const signal = this.#abort!.signal;
    const trace = this.#options.tracing?.startPoll();
    let calls = 0;
    let changes = 0;
    const done = (outcome: PollOutcome) => {
      trace?.end(outcome, { calls, changes });
      onTick?.(outcome, calls);
    };
    try {
      const start = await this.#watermarks.load();
      if (!start) {
        if (!(await this.#options.budget.admit(nextTick, signal))) return done('skipped');
        calls++;
        const newest = await this.#page(
          { $orderby: 'lastUpdateTime desc', $top: '1' },
          nextTick,
          signal,
          trace,
        );
        await this.#watermarks.save(newest.length > 0 ? watermarkAt(newest) : EPOCH_WATERMARK);
        return done('empty');
      }
      const pageSize = this.#options.pageSize ?? 100;
      const maxPages = this.#options.maxPagesPerTick ?? 10;
      let watermark = start;
      const found: AlertChangeEvent[] = [];
      for (let page = 0; page < maxPages; page++) {
        if (!(await this.#options.budget.admit(nextTick, signal))) break;
        calls++;
        const alerts = await this.#page(pollQuery(watermark, pageSize), nextTick, signal, trace);
        const next = changesIn(alerts, watermark, start);
        found.push(...next.changes);
        const moved = next.watermark.time !== watermark.time || next.changes.length > 0;
        watermark = next.watermark;
        if (alerts.length < pageSize || !moved) break;
      }
      if (signal.aborted) return trace?.end('stopped', { calls, changes });
      await this.#watermarks.save(watermark);
      changes = found.length;
      if (changes > 0) this.#options.onChanges(withOrigin(found, trace));
      done(calls === 0 ? 'skipped' : changes > 0 ? 'changes' : 'empty');
    } catch (error) {
      if (signal.aborted) return trace?.end('stopped', { calls, changes });
      trace?.end('failed', { calls, changes, error });
      onTick?.('failed', calls);
      onError?.(error);
    }
  }

  /** One call of the alerts API, never answered from the cache; each alert is primed as its own `alerts/{id}`. */
  async #page(
    query: Record<string, string>,
    deadline: number,
    signal: AbortSignal,
    trace: PollTrace | undefined,
  ): Promise<AlertDto[]> {
    const { client, tokens } = this.#options;
    const scope: CallScope = {
      stats: newStats(),
      deadline,
      signal,
      caller: POLL_CALLER,
      fresh: true,
      ...(tokens && { tokens }),
      ...(trace && { trace }),
    };
    const request: DefenderRequest = { api: 'alerts', query: { ...query, $expand: 'evidence' } };
    const answer = await client.get(request, scope);
    const alerts = answer.status === 200 ? (answer.body as ODataCollection<AlertDto>).value : [];
    await Promise.all(
      alerts.map((alert) => client.prime({ api: 'alerts/{id}', id: alert.id }, alert, scope)),
    );
    return alerts;
  }
}

/** The changes a traced poll found, each carrying the poll's span for its executions to link to. */
function withOrigin(changes: AlertChangeEvent[], trace: PollTrace | undefined): readonly AlertChangeEvent[] {
  const origin = trace?.origin;
  return origin ? changes.map((change) => ({ ...change, origin })) : changes;
}

/** The poll from `watermark`: oldest first, so that a tick cut short by its page cap resumes where it stopped. */
function pollQuery(watermark: Watermark, pageSize: number): Record<string, string> {
  // The watermark came from Defender, but it goes into a URL: only a date-time, never anything else.
  if (!isDateTime(watermark.time)) throw new Error('the watermark is not a date-time');
  return {
    $filter: `lastUpdateTime ge ${watermark.time}`,
    $orderby: 'lastUpdateTime asc',
    $top: String(pageSize),
  };
}
