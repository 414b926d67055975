import { encodeCursor } from '../src/graphql/resolvers/connection.js';
import { DEFENDER_DEFAULT_RATE_LIMITS, HUNTING_DEFAULT_RATE_LIMITS } from '../src/defender/apis.js';
import type { RateLimitWindow } from '../src/rate-limit/windows.js';
import { parseRateLimits } from '../src/rate-limit/windows.js';
import type { GraphQLAnswer } from './gateway.js';
import { startBenchStack } from './gateway.js';
import { apiCounts, met, table } from './markdown.js';
import type { Section } from './report-sections.js';

export interface PlansOptions {
  readonly seed: number;
  readonly latencyMs: number;
  /** The REST APIs' windows while counting (generous, so that no call waits); hunting keeps Defender's. */
  readonly rateLimits: readonly RateLimitWindow[];
  /** The gateway's cap per operation: above the REST walk's calls, so that both plans run whole. */
  readonly maxOperationCalls: number;
}

/** One walk under one plan, on a fresh gateway and simulator (cold cache). */
export interface PlanRun {
  readonly plan: 'rest' | 'auto';
  /** Calls in the simulator's log, and per API (`hunting` for advanced hunting). */
  readonly calls: number;
  readonly byApi: Readonly<Record<string, number>>;
  /** `extensions.upstream.estimate.expected` on the fresh gateway: the source table's priors alone. */
  readonly expected: number;
  /**
   * The same walk again with `Cache-Control: no-cache` after the gateway served {@link TRAINING_PAGES} walks
   * over later pages of alerts under the same plan: its expected calls, and the calls it made.
   */
  readonly trained: { readonly expected: number; readonly calls: number };
  /** Queries per hour Defender's default limits serve at these per-API calls (each query cold). */
  readonly queriesPerHour: number;
  /** `extensions.upstream.plans`, as the gateway reported it. */
  readonly plans: readonly { path: string; source: string; calls: number; fallback?: string }[];
  readonly errors: number;
}

export interface WalkPlans {
  readonly first: number;
  readonly rest: PlanRun;
  readonly auto: PlanRun;
  /** The two answers' data are equal once relationship lists are sorted. */
  readonly equal: boolean;
}

export interface PlansResult {
  readonly options: PlansOptions;
  readonly walks: readonly WalkPlans[];
}

/** The issue's walk: every alert's user, its machines, and who logs on to each of them. */
export const walkQuery = (first: number, offset = 0) =>
  `{ alerts(first: ${first}${offset > 0 ? `, after: ${JSON.stringify(encodeCursor(offset))}` : ''}) { nodes { user { machines { computerDnsName logonUsers { id } } } } } }`;

/** Walks over later pages of alerts each gateway serves before the trained measurement. */
const TRAINING_PAGES = 3;

const WALK_SIZES = [20, 100] as const;

/**
 * Sustained calls per hour each default window allows, the least of them: a window of `limit` calls per `s`
 * seconds allows `limit × 3600 / s` an hour; the hourly window is the binding one at Defender's defaults (1,500/h
 * for every REST API, 1,500/h for hunting whose 45/min would allow 2,700/h).
 */
export function hourlyBudget(windows: readonly RateLimitWindow[]): number {
  return Math.min(...windows.map((w) => (w.limit * 3600) / w.windowSeconds));
}

/**
 * Queries per hour the default budget serves when each query costs `byApi` calls: the least, over the APIs it
 * calls, of that API's hourly budget divided by its calls per query. Every API has a budget of its own.
 */
export function queriesPerHour(byApi: Readonly<Record<string, number>>): number {
  const rest = hourlyBudget(parseRateLimits(DEFENDER_DEFAULT_RATE_LIMITS));
  const hunting = hourlyBudget(parseRateLimits(HUNTING_DEFAULT_RATE_LIMITS));
  const perApi = Object.entries(byApi)
    .filter(([, n]) => n > 0)
    .map(([api, n]) => (api === 'hunting' ? hunting : rest) / n);
  return perApi.length ? Math.min(...perApi) : Number.POSITIVE_INFINITY;
}

/**
 * A copy of `value` with every relationship list sorted: the two plans may list a user's machines or a
 * machine's logon users in another order. The root connection's `nodes` keep their order (it is the page's).
 */
export function canonical(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => canonical(v));
    if (key === 'nodes') return items;
    return items
      .map((v) => [JSON.stringify(v), v] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, v]) => v);
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, canonical(v, k)]));
  }
  return value;
}

/**
 * The walk at `first: 20` and `first: 100`, under `DEFENDER_PLANS=rest` then `auto`, each on a fresh simulator
 * (the default tenant of the seed) and gateway: calls at the simulator per API, the estimate, the plans the
 * gateway reports, and whether the answers are equal.
 */
export async function measurePlans(options: PlansOptions): Promise<PlansResult> {
  const walks: WalkPlans[] = [];
  for (const first of WALK_SIZES) {
    const runs: Partial<Record<'rest' | 'auto', { run: PlanRun; data: unknown }>> = {};
    for (const plan of ['rest', 'auto'] as const) {
      const stack = await startBenchStack(
        { seed: options.seed, latencyMs: options.latencyMs, rateLimits: options.rateLimits },
        {
          rateLimits: options.rateLimits,
          requestDeadlineMs: 30_000,
          cacheTtlMs: 600_000,
          maxOperationCalls: options.maxOperationCalls,
          responseCache: false,
          plans: plan,
        },
      );
      try {
        stack.sim.resetCalls();
        console.error(`bench: plans: first: ${first}, DEFENDER_PLANS=${plan}…`);
        const answer = await stack.query(walkQuery(first));
        const byApi: Record<string, number> = {};
        for (const call of stack.sim.calls)
          byApi[call.api ?? 'unknown'] = (byApi[call.api ?? 'unknown'] ?? 0) + 1;
        const calls = stack.sim.calls.length;
        // What the gateway learns from serving walks like it (other alerts), then the same walk cold.
        for (let page = 1; page <= TRAINING_PAGES; page++) await stack.query(walkQuery(first, page * first));
        stack.sim.resetCalls();
        const trained = await stack.query(walkQuery(first), { 'cache-control': 'no-cache' });
        runs[plan] = {
          data: answer.data,
          run: {
            plan,
            calls,
            byApi,
            expected: answer.extensions?.upstream?.estimate?.expected ?? 0,
            trained: {
              expected: trained.extensions?.upstream?.estimate?.expected ?? 0,
              calls: stack.sim.calls.length,
            },
            queriesPerHour: queriesPerHour(byApi),
            plans: plansOf(answer),
            errors: answer.errors?.length ?? 0,
          },
        };
      } finally {
        await stack.close();
      }
    }
    const rest = runs.rest!;
    const auto = runs.auto!;
    walks.push({
      first,
      rest: rest.run,
      auto: auto.run,
      equal:
        rest.data != null && JSON.stringify(canonical(rest.data)) === JSON.stringify(canonical(auto.data)),
    });
  }
  return { options, walks };
}

function plansOf(answer: GraphQLAnswer): PlanRun['plans'] {
  const plans = answer.extensions?.upstream?.['plans'];
  return Array.isArray(plans) ? (plans as PlanRun['plans']) : [];
}

/** Calls of `auto` the goal allows for a walk of `first` alerts. */
const CALL_GOALS: Readonly<Record<number, number>> = { 20: 8, 100: 12 };
const QPH_RATIO_GOAL = 50;
const ESTIMATE_TOLERANCE = 0.25;

const errorOf = (expected: number, calls: number) =>
  calls === 0 ? (expected === 0 ? 0 : Infinity) : expected / calls - 1;
/** The untrained estimate's error (priors alone). */
const estimateError = (r: PlanRun) => errorOf(r.expected, r.calls);
/** The trained estimate's error, the one the goal holds to ±25 %. */
const trainedError = (r: PlanRun) => errorOf(r.trained.expected, r.trained.calls);
const signedPct = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(x * 100).toFixed(0)} %` : '∞');
const qph = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '∞');
const ratioOf = (w: WalkPlans) => w.auto.queriesPerHour / w.rest.queriesPerHour;

export function plansSection(r: PlansResult): Section {
  const rows = r.walks.flatMap((w) =>
    [w.rest, w.auto].map((run) => [
      `first: ${w.first}`,
      run.plan,
      String(run.calls),
      apiCounts(run.byApi),
      `${run.expected} (${signedPct(estimateError(run))})`,
      `${run.trained.expected} / ${run.trained.calls} (${signedPct(trainedError(run))})`,
      qph(run.queriesPerHour),
      run.plans
        .map((p) => `${p.path} → ${p.source} (${p.calls})${p.fallback ? ` ${p.fallback}` : ''}`)
        .join('; ') || '—',
      String(run.errors),
    ]),
  );
  const comparison = table(
    ['walk', 'answers equal', 'calls rest → auto', 'queries/hour rest → auto', 'ratio'],
    r.walks.map((w) => [
      `first: ${w.first}`,
      w.equal ? 'yes' : '**no**',
      `${w.rest.calls} → ${w.auto.calls}`,
      `${qph(w.rest.queriesPerHour)} → ${qph(w.auto.queriesPerHour)}`,
      `${ratioOf(w).toFixed(0)}×`,
    ]),
  );
  return {
    tables: [
      '## Bulk plans: REST against advanced hunting',
      `Walk: \`${walkQuery(20)}\` (and \`first: 100\`).`,
      table(
        [
          'walk',
          'plan',
          'calls',
          'per API',
          'expected untrained (error)',
          'trained: expected / calls (error)',
          'queries/hour',
          'extensions.upstream.plans',
          'errors',
        ],
        rows,
      ),
      comparison,
    ].join('\n\n'),
    notes: [
      'Each walk runs once per plan (`DEFENDER_PLANS=rest`, then `auto`) on a fresh simulator (seed',
      `${r.options.seed}, the default tenant) and a fresh gateway: the cache is cold and the response cache off. Calls`,
      'are the simulator’s log. Queries/hour: what Defender’s default budget serves if every query is as cold as',
      'this one (no answer reused between queries, the worst case): the least, over the APIs the query calls, of',
      'the API’s hourly budget over its calls per query; every REST API has 1,500/h of its own (its 100/min would',
      'allow 6,000/h), hunting 1,500/h (its 45/min would allow 2,700/h). The REST APIs’ windows are generous while',
      'counting, so that no call waits; hunting keeps its default windows (45/60 s, 1,500/3,600 s); the cap is',
      `${r.options.maxOperationCalls} calls so that the REST walk runs whole. Answers are compared after sorting`,
      'relationship lists (the page of alerts keeps its order). Expected: `extensions.upstream.estimate.expected`;',
      'untrained on the fresh gateway (the source table’s priors), trained after the gateway served the walk over',
      `the next ${TRAINING_PAGES} pages of alerts under the same plan (the fan-out it learnt, from REST or hunting`,
      'answers alike), then asked again with `Cache-Control: no-cache` (cold: nothing cached counts).',
    ].join('\n'),
  };
}

export function plansGoals(r: PlansResult): string[][] {
  const rows: string[][] = [];
  for (const w of r.walks) {
    const goal = CALL_GOALS[w.first];
    if (goal !== undefined)
      rows.push([
        `plans: \`first: ${w.first}\` walk ≤ ${goal} calls (auto)`,
        `${w.auto.calls} (rest ${w.rest.calls})`,
        met(w.auto.calls <= goal),
      ]);
  }
  const ratios = r.walks.map(ratioOf);
  rows.push([
    `plans: queries/hour auto ÷ rest ≥ ${QPH_RATIO_GOAL}× (default limits, cold)`,
    r.walks.map((w) => `first: ${w.first} ${ratioOf(w).toFixed(0)}×`).join(', '),
    met(ratios.every((x) => x >= QPH_RATIO_GOAL)),
  ]);
  const runs = r.walks.flatMap((w) => [w.rest, w.auto]);
  rows.push([
    'plans: expected within ±25 % of actual, either plan (trained, cold)',
    r.walks
      .map(
        (w) => `${w.first}: rest ${signedPct(trainedError(w.rest))}, auto ${signedPct(trainedError(w.auto))}`,
      )
      .join('; '),
    met(runs.every((x) => Math.abs(trainedError(x)) <= ESTIMATE_TOLERANCE)),
  ]);
  rows.push([
    'plans: same answers under rest and auto',
    r.walks.map((w) => `${w.first}: ${w.equal ? 'equal' : 'differ'}`).join(', '),
    met(r.walks.every((w) => w.equal)),
  ]);
  return rows;
}
