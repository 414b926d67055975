import type { DefenderApi } from '../src/defender/apis.js';
import { defaultMargin } from '../src/rate-limit/limiter.js';
import type { RateLimitWindow } from '../src/rate-limit/windows.js';
import type { Tenant } from '../src/simulator/data.js';
import type { SimulatorCall } from '../src/simulator/server.js';
import { postQuery, startBenchStack } from './gateway.js';

export interface UtilisationOptions {
  readonly seed: number;
  /** The one window applied on both sides (gateway limiter and simulator throttle), per API. */
  readonly window: RateLimitWindow;
  /** How long demand is kept above the limit (ms). */
  readonly durationMs: number;
  /** Operations in flight at once per API: more than the limit, so the limiter always has a queue. */
  readonly concurrencyPerApi: number;
  readonly latencyMs: number;
  /** Sliding-window sampling step (ms). */
  readonly sampleStepMs: number;
}

/** Calls in one window, measured at the simulator. */
export interface WindowCount {
  /** Start (tumbling) or end (sliding) of the window, ms after the first call of the run. */
  readonly atMs: number;
  readonly calls: number;
}

export interface ApiUtilisation {
  readonly api: DefenderApi;
  /** Calls that arrived in the whole tumbling windows between this API's first call and the end of demand. */
  readonly callsInWindows: number;
  readonly windows: number;
  /** callsInWindows / (windows × limit). */
  readonly utilisation: number;
  readonly tumbling: readonly WindowCount[];
  readonly sliding: readonly WindowCount[];
  readonly slidingMean: number;
  /** slidingMean / limit: the average window's share of the allowance, free of window alignment. */
  readonly slidingUtilisation: number;
  readonly slidingMin: number;
  readonly slidingMax: number;
  /** Calls the simulator answered 429, over the whole run. */
  readonly throttled: number;
  /** Operations sent for this API before the end of demand. */
  readonly operations: number;
}

export interface UtilisationResult {
  readonly options: UtilisationOptions;
  readonly apis: readonly ApiUtilisation[];
  /** Sum of calls over sum of allowed, over every API's whole windows. */
  readonly utilisation: number;
  /** Mean over APIs of their sliding utilisation. */
  readonly slidingUtilisation: number;
  readonly throttled: number;
  /** Error codes of operations answered before the end of demand (none expected). */
  readonly errorsDuringDemand: Readonly<Record<string, number>>;
  /** Operations still queued at the end of demand, refused when the limiter closed. */
  readonly refusedAtClose: number;
  /** The most the gateway can use, given its limiter's safety margin on each window. */
  readonly marginCeiling: number;
}

/** One API to keep busy: a query that costs exactly one call to it, for keys never asked before. */
interface Driver {
  readonly api: DefenderApi;
  readonly keys: readonly string[];
  readonly query: (key: string) => string;
}

/**
 * Keeps demand well above the limit on three APIs at once, with distinct keys (nothing cached), then reads from
 * the simulator's log how many calls arrived per window compared with the number allowed, and the 429s.
 */
export async function measureUtilisation(
  tenant: Tenant,
  options: UtilisationOptions,
): Promise<UtilisationResult> {
  const windows = [options.window];
  const stack = await startBenchStack(
    { seed: options.seed, rateLimits: windows, latencyMs: options.latencyMs },
    { rateLimits: windows, requestDeadlineMs: 10 * options.durationMs, cacheTtlMs: 600_000 },
  );
  const drivers = driversFor(tenant);
  const errorsDuringDemand: Record<string, number> = {};
  const operations = new Map<DefenderApi, number>();
  let refusedAtClose = 0;
  const stopAt = Date.now() + options.durationMs;

  const worker = async (driver: Driver, next: { index: number }) => {
    while (Date.now() < stopAt && next.index < driver.keys.length) {
      const key = driver.keys[next.index++]!;
      operations.set(driver.api, (operations.get(driver.api) ?? 0) + 1);
      const answer = await postQuery(stack.gateway.url, driver.query(key)).catch((error: unknown) => ({
        errors: [{ message: String(error), extensions: { code: 'FETCH_FAILED' } }],
      }));
      for (const error of answer.errors ?? []) {
        const code = String(error.extensions?.['code'] ?? error.message);
        if (Date.now() <= stopAt) errorsDuringDemand[code] = (errorsDuringDemand[code] ?? 0) + 1;
        else refusedAtClose++;
      }
    }
  };
  const running = drivers.flatMap((driver) => {
    const next = { index: 0 };
    return Array.from({ length: options.concurrencyPerApi }, () => worker(driver, next));
  });
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, stopAt - Date.now())));
  // End of demand: refuse whatever is still queued rather than wait for it.
  stack.gateway.limiter.close();
  await Promise.all(running);
  const calls = [...stack.sim.calls];
  await stack.close();

  const runStart = Math.min(...calls.map((c) => c.at));
  const apis = drivers.map((d) =>
    apiUtilisation(
      d.api,
      calls.filter((c) => c.api === d.api),
      runStart,
      stopAt,
      options,
      operations.get(d.api) ?? 0,
    ),
  );
  const used = apis.reduce((sum, a) => sum + a.callsInWindows, 0);
  const allowed = apis.reduce((sum, a) => sum + a.windows * options.window.limit, 0);
  const windowMs = options.window.windowSeconds * 1000;
  return {
    options,
    apis,
    utilisation: allowed === 0 ? 0 : used / allowed,
    slidingUtilisation: apis.reduce((sum, a) => sum + a.slidingUtilisation, 0) / apis.length,
    throttled: calls.filter((c) => c.status === 429).length,
    errorsDuringDemand,
    refusedAtClose,
    marginCeiling: windowMs / (windowMs + defaultMargin(windowMs)),
  };
}

function apiUtilisation(
  api: DefenderApi,
  calls: readonly SimulatorCall[],
  runStart: number,
  stopAt: number,
  options: UtilisationOptions,
  operations: number,
): ApiUtilisation {
  const windowMs = options.window.windowSeconds * 1000;
  const times = calls.map((c) => c.at).sort((a, b) => a - b);
  const first = times[0] ?? stopAt;
  const inRange = (from: number, to: number) => times.filter((t) => t >= from && t < to).length;

  const tumbling: WindowCount[] = [];
  for (let start = first; start + windowMs <= stopAt; start += windowMs) {
    tumbling.push({ atMs: start - runStart, calls: inRange(start, start + windowMs) });
  }
  const sliding: WindowCount[] = [];
  for (let end = first + windowMs; end <= stopAt; end += options.sampleStepMs) {
    sliding.push({ atMs: end - runStart, calls: inRange(end - windowMs, end) });
  }
  const callsInWindows = tumbling.reduce((sum, w) => sum + w.calls, 0);
  const slidingCalls = sliding.map((w) => w.calls);
  const slidingMean = slidingCalls.reduce((a, b) => a + b, 0) / Math.max(1, slidingCalls.length);
  return {
    api,
    callsInWindows,
    windows: tumbling.length,
    utilisation: tumbling.length === 0 ? 0 : callsInWindows / (tumbling.length * options.window.limit),
    tumbling,
    sliding,
    slidingMean,
    slidingUtilisation: slidingMean / options.window.limit,
    slidingMin: Math.min(...slidingCalls),
    slidingMax: Math.max(...slidingCalls),
    throttled: calls.filter((c) => c.status === 429).length,
    operations,
  };
}

/** Three APIs, each driven by an operation that costs one call to it and nothing else. */
function driversFor(tenant: Tenant): Driver[] {
  // One user per account name: Defender keys the user routes by name, so two domains' namesakes share a call.
  const byName = new Map<string, string>();
  for (const user of tenant.users) {
    const name = user.accountName.toLowerCase();
    if (!byName.has(name)) byName.set(name, user.id);
  }
  const users = [...byName.values()];
  return [
    {
      api: 'machines/{id}',
      keys: tenant.machines.map((m) => m.id),
      query: (id) => `{ machine(id: ${JSON.stringify(id)}) { id } }`,
    },
    {
      api: 'users/{id}/machines',
      keys: users,
      query: (id) => `{ user(id: ${JSON.stringify(id)}) { machines { id } } }`,
    },
    {
      api: 'users/{id}/alerts',
      keys: users,
      query: (id) => `{ user(id: ${JSON.stringify(id)}) { alerts { id } } }`,
    },
  ];
}
