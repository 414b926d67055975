import { encodeCursor } from '../src/graphql/resolvers/connection.js';
import { FanoutStats } from '../src/planner/fanout.js';
import type { RateLimitWindow } from '../src/rate-limit/windows.js';
import type { Tenant } from '../src/simulator/data.js';
import { adversarialMix } from './adversarial.js';
import type { BenchStack, GraphQLAnswer } from './gateway.js';
import { startBenchStack } from './gateway.js';
import { met, table } from './markdown.js';
import type { BenchQuery } from './queries.js';
import type { Section } from './report-sections.js';

export interface EstimateOptions {
  readonly seed: number;
  readonly latencyMs: number;
  /** Generous limits on both sides: the budget must not interfere with counting. */
  readonly rateLimits: readonly RateLimitWindow[];
  /** The gateway's default MAX_OPERATION_CALLS, for the wasted calls. */
  readonly defaultMaxOperationCalls: number;
  /** The cap the accuracy runs use, so that every query runs whole. */
  readonly benchMaxOperationCalls: number;
}

/** The expected calls against the calls made, for one run of one query. */
export interface Accuracy {
  readonly expected: number;
  readonly actual: number;
}

export interface QueryEstimate {
  readonly name: string;
  /** On a fresh gateway: the source table's priors alone. */
  readonly untrained: Accuracy;
  /** After the training mix, on a cold cache (`Cache-Control: no-cache`), then again warm. */
  readonly cold: Accuracy;
  readonly warm: Accuracy;
}

/** One operation at the default cap: what it spent, and whether it ended QUERY_TOO_EXPENSIVE. */
export interface CapRun {
  readonly name: string;
  readonly gateway: 'fresh' | 'trained';
  readonly calls: number;
  readonly refused: boolean;
  readonly tooExpensive: boolean;
  readonly costliestPath?: readonly string[];
}

export interface EstimateResult {
  readonly options: EstimateOptions;
  readonly trainingOperations: number;
  readonly queries: readonly QueryEstimate[];
  readonly capRuns: readonly CapRun[];
}

/** The AlertQueue tab: every alert's user, its machines, and who logs on to each of them. */
const ALERT_QUEUE_WALK =
  '{ alerts(first: 20) { nodes { user { machines { computerDnsName logonUsers { id } } } } } }';

/**
 * The estimate's accuracy and the calls wasted at the cap. Accuracy: each realistic query's expected calls
 * against the calls it made, on a fresh gateway (priors only), then on a gateway that has served a training
 * mix of the same shapes over other entities (cold: `Cache-Control: no-cache`; warm: asked again). Waste: every
 * realistic query, the adversarial mix and the AlertQueue walk at the default MAX_OPERATION_CALLS, fresh and
 * trained, counting the calls of operations that end QUERY_TOO_EXPENSIVE.
 */
export async function measureEstimates(
  tenant: Tenant,
  queries: readonly BenchQuery[],
  options: EstimateOptions,
): Promise<EstimateResult> {
  const fanout = new FanoutStats();
  const start = (cap: number, shared?: FanoutStats) =>
    startBenchStack(
      { seed: options.seed, rateLimits: options.rateLimits, latencyMs: options.latencyMs },
      {
        rateLimits: options.rateLimits,
        requestDeadlineMs: 30_000,
        cacheTtlMs: 600_000,
        maxOperationCalls: cap,
        ...(shared && { fanout: shared }),
      },
    );

  const untrained = new Map<string, Accuracy>();
  for (const query of queries) {
    const stack = await start(options.benchMaxOperationCalls);
    try {
      untrained.set(query.name, await accuracyOf(stack, query.query));
    } finally {
      await stack.close();
    }
  }

  const trainer = await start(options.benchMaxOperationCalls, fanout);
  const training = trainingMix(tenant);
  const results: QueryEstimate[] = [];
  try {
    for (const query of training) await trainer.query(query);
    for (const query of queries) {
      const cold = await accuracyOf(trainer, query.query, { 'cache-control': 'no-cache' });
      const warm = await accuracyOf(trainer, query.query);
      results.push({ name: query.name, untrained: untrained.get(query.name)!, cold, warm });
    }
  } finally {
    await trainer.close();
  }

  const capped: { name: string; query: string }[] = [
    ...queries.map((q) => ({ name: q.name, query: q.query })),
    { name: 'AlertQueue walk (issue 13)', query: ALERT_QUEUE_WALK },
    ...[0, 1, 2].map((k) => {
      const item = adversarialMix(k);
      return { name: `adversarial ${item.name}`, query: item.query };
    }),
  ];
  const capRuns: CapRun[] = [];
  for (const gateway of ['fresh', 'trained'] as const) {
    for (const { name, query } of capped) {
      const stack = await start(options.defaultMaxOperationCalls, gateway === 'trained' ? fanout : undefined);
      try {
        stack.sim.resetCalls();
        const answer = await stack.query(query);
        const codes = (answer.errors ?? []).map((e) => e.extensions?.['code']);
        const path = costliestPathOf(answer);
        capRuns.push({
          name,
          gateway,
          calls: stack.sim.calls.length,
          refused: answer.data === undefined && codes.length > 0,
          tooExpensive: codes.includes('QUERY_TOO_EXPENSIVE'),
          ...(path && { costliestPath: path }),
        });
      } finally {
        await stack.close();
      }
    }
  }
  return { options, trainingOperations: training.length, queries: results, capRuns };
}

/** One run: the expected calls it stated against the calls the simulator saw. */
async function accuracyOf(
  stack: BenchStack,
  query: string,
  headers: Record<string, string> = {},
): Promise<Accuracy> {
  stack.sim.resetCalls();
  const answer = await stack.query(query, headers);
  return { expected: answer.extensions?.upstream?.estimate?.expected ?? 0, actual: stack.sim.calls.length };
}

function costliestPathOf(answer: GraphQLAnswer): readonly string[] | undefined {
  const cost = answer.errors?.[0]?.extensions?.['cost'] as { costliestPath?: string[] } | undefined;
  return cost?.costliestPath;
}

/**
 * What a dashboard would have asked before: the realistic shapes, over entities the measured queries do not
 * ask (later alert and machine pages, other machines and users).
 */
function trainingMix(t: Tenant): string[] {
  const after = (offset: number) => `after: ${JSON.stringify(encodeCursor(offset))}`;
  const mix: string[] = [];
  for (let offset = 20; offset <= 200; offset += 20) {
    mix.push(
      `{ alerts(first: 20, ${after(offset)}) { nodes { id machine { computerDnsName } user { accountName machines { computerDnsName logonUsers { id } } } } } }`,
    );
  }
  for (const offset of [25, 50, 75]) {
    mix.push(
      `{ machines(first: 25, ${after(offset)}, filter: { healthStatus: [ACTIVE] }) { nodes { id logonUsers { id } alerts { id severity } } } }`,
    );
  }
  for (let k = 1; k <= 10; k++) {
    const machine = t.machines[k * 37]!;
    mix.push(
      `{ machine(id: ${JSON.stringify(machine.id)}) { logonUsers { id machines { id } } alerts { id user { id } } } }`,
    );
    const user = t.users[k * 13]!;
    mix.push(`{ user(id: ${JSON.stringify(user.id)}) { machines { id } alerts { id machine { id } } } }`);
  }
  for (const offset of [120, 240]) {
    mix.push(
      `{ alerts(first: 120, ${after(offset)}, filter: { severity: [HIGH] }) { nodes { id machine { osPlatform healthStatus } } } }`,
    );
  }
  return mix;
}

/** expected / actual − 1 (0 when both are 0). */
export function errorOf(a: Accuracy): number {
  if (a.actual === 0) return a.expected === 0 ? 0 : Number.POSITIVE_INFINITY;
  return a.expected / a.actual - 1;
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median and worst |expected / actual − 1| over runs. */
export function accuracySummary(runs: readonly Accuracy[]): { median: number; worst: number } {
  const errors = runs.map((r) => Math.abs(errorOf(r)));
  return { median: median(errors), worst: Math.max(0, ...errors) };
}

/** Calls spent by operations that ended QUERY_TOO_EXPENSIVE. */
export function wastedCalls(runs: readonly CapRun[]): number {
  return runs.filter((r) => r.tooExpensive).reduce((sum, r) => sum + r.calls, 0);
}

const signedPct = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(x * 100).toFixed(0)} %` : '∞');

export function estimateSection(r: EstimateResult): Section {
  const accuracy = table(
    ['query', 'untrained: expected / actual', 'trained cold', 'error', 'trained warm', 'error'],
    r.queries.map((q) => [
      q.name,
      `${q.untrained.expected} / ${q.untrained.actual} (${signedPct(errorOf(q.untrained))})`,
      `${q.cold.expected} / ${q.cold.actual}`,
      signedPct(errorOf(q.cold)),
      `${q.warm.expected} / ${q.warm.actual}`,
      signedPct(errorOf(q.warm)),
    ]),
  );
  const summary = (label: string, runs: Accuracy[]) => {
    const s = accuracySummary(runs);
    return [label, `±${(s.median * 100).toFixed(0)} %`, `±${(s.worst * 100).toFixed(0)} %`];
  };
  const summaries = table(
    ['runs', 'median |expected/actual − 1|', 'worst'],
    [
      summary(
        'untrained (priors only)',
        r.queries.map((q) => q.untrained),
      ),
      summary(
        'trained, cold',
        r.queries.map((q) => q.cold),
      ),
      summary(
        'trained, warm',
        r.queries.map((q) => q.warm),
      ),
    ],
  );
  const ratios = r.queries.filter((q) => q.cold.expected > 0).map((q) => q.cold.actual / q.cold.expected);
  const waste = table(
    ['operation', 'gateway', 'calls', 'outcome', 'costliest path'],
    r.capRuns.map((c) => [
      c.name,
      c.gateway,
      String(c.calls),
      c.refused ? 'refused' : c.tooExpensive ? 'QUERY_TOO_EXPENSIVE after calls' : 'answered',
      c.costliestPath?.join('.') ?? '',
    ]),
  );
  return {
    tables: [
      '## Estimate accuracy',
      accuracy,
      summaries,
      `Highest actual / expected (trained, cold): ${Math.max(0, ...ratios).toFixed(2)}`,
      `## Wasted calls at the default cap (MAX_OPERATION_CALLS=${r.options.defaultMaxOperationCalls})`,
      waste,
      `Wasted calls (spent by operations that ended QUERY_TOO_EXPENSIVE): ${wastedCalls(r.capRuns)}`,
    ].join('\n\n'),
    notes: [
      '`expected` is `extensions.upstream.estimate.expected`, `actual` the calls in the simulator’s log. Untrained:',
      'a fresh gateway per query, on the source table’s priors (sources.ts). Trained: one gateway after',
      `${r.trainingOperations} operations of the same shapes over other entities (later alert and machine pages, other`,
      'machines and users), the query asked with `Cache-Control: no-cache` (cold: nothing cached counts), then again',
      '(warm). The highest actual / expected is what the safety margin (COST_MARGIN_PERCENT) has to cover.',
      'Wasted calls: each realistic query, the AlertQueue walk and the adversarial documents, once on a fresh',
      'gateway and once on one sharing the trained statistics, at the default cap.',
    ].join('\n'),
  };
}

/** The goals of issue 13 this section measures. */
export function estimateGoals(r: EstimateResult): string[][] {
  const cold = accuracySummary(r.queries.map((q) => q.cold));
  const warm = accuracySummary(r.queries.map((q) => q.warm));
  const wasted = wastedCalls(r.capRuns);
  const refusedWithCalls = r.capRuns.filter((c) => c.refused && c.calls > 0).length;
  return [
    ['wasted calls = 0 (realistic and adversarial queries, default cap)', String(wasted), met(wasted === 0)],
    [
      'expected within ±25 % (median) and ±50 % (worst) of actual, trained, cold and warm',
      `cold ±${(cold.median * 100).toFixed(0)} % / ±${(cold.worst * 100).toFixed(0)} %, warm ±${(warm.median * 100).toFixed(0)} % / ±${(warm.worst * 100).toFixed(0)} %`,
      met(Math.max(cold.median, warm.median) <= 0.25 && Math.max(cold.worst, warm.worst) <= 0.5),
    ],
    [
      'every refusal made with 0 calls',
      `${refusedWithCalls} refusals with calls`,
      met(refusedWithCalls === 0),
    ],
  ];
}
