import type { GraphiQLProps } from 'graphiql';
import { createElement as h } from 'react';
import type { ReactElement, ReactNode } from 'react';
import type { CallEstimate, DryRunRequest, DryRunState, NotEstimated } from './dry-run.js';
import { DRY_RUN_HEADER, callEstimateOf, field } from './dry-run.js';

type Fetcher = GraphiQLProps['fetcher'];
type FetcherParams = Parameters<Fetcher>[0];
type FetcherResult = Awaited<ReturnType<Fetcher>>;

/** What one run said it cost upstream: the part of the gateway's `extensions.upstream` shown here. */
export interface UpstreamCost {
  /** The operation it was for, when the request named one. */
  readonly operationName: string | null;
  /** HTTP requests the operation sent to Defender. */
  readonly calls: number;
  /** Defender answers it took from the gateway's cache instead. */
  readonly cacheHits: number;
  /** The planner's estimate of the calls, as it stood when the operation ran. */
  readonly estimate: CallEstimate | null;
  /** Time the operation's calls waited for the rate limiter (ms). */
  readonly limiterWaitMs: number | null;
  /** Calls per upstream API (Defender's REST routes, `hunting` for advanced hunting), in the gateway's order. */
  readonly byApi: readonly { readonly api: string; readonly calls: number }[];
  /** Which source served each relationship level the planner chose for (`extensions.upstream.plans`). */
  readonly plans: readonly LevelPlan[];
}

/** One relationship level of a run: which source served it, for how many calls, and why not hunting if it fell back. */
export interface LevelPlan {
  /** The response path without list indices, e.g. `alerts.nodes.user.machines`. */
  readonly path: string;
  /** `hunting` or `rest`. */
  readonly source: string;
  readonly calls: number;
  /** The error code hunting failed with, when the level fell back to REST. */
  readonly fallback: string | undefined;
}

/**
 * The page's one way to the gateway: a JSON POST to `url` (subscriptions go over WebSocket, see live.ts;
 * the gateway has no incremental delivery), with the editor's headers, so that the runs and the dry
 * runs of a tab are authenticated alike.
 */
async function post(
  url: string,
  body: FetcherParams,
  editorHeaders: Readonly<Record<string, unknown>> | undefined,
  signal?: AbortSignal,
): Promise<unknown> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/graphql-response+json, application/json;q=0.9',
  };
  for (const [name, value] of Object.entries(editorHeaders ?? {})) headers[name] = String(value);
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal });
  return response.json();
}

/**
 * GraphiQL's fetcher for this gateway, which hands every run's upstream cost to `onCost`. GraphiQL's own schema
 * introspection and the dry runs are not reported, so the pane keeps showing what the user ran.
 */
export function costReportingFetcher(
  url: string,
  onCost: (cost: UpstreamCost | null) => void,
  introspectionQueryName = 'IntrospectionQuery',
): Fetcher {
  return async (params, options) => {
    const result = await post(url, params, options?.headers);
    const dryRun = Object.keys(options?.headers ?? {}).some((name) => name.toLowerCase() === DRY_RUN_HEADER);
    if (params.operationName !== introspectionQueryName && !dryRun) {
      onCost(upstreamCostOf(result, params.operationName ?? null));
    }
    return result as FetcherResult;
  };
}

/** Sends a dry run the way Run sends the operation (same endpoint, same editor headers, plus the dry-run one). */
export function dryRunSender(url: string): (request: DryRunRequest, signal: AbortSignal) => Promise<unknown> {
  return (request, signal) => post(url, request.params, request.headers, signal);
}

/** Reads `extensions.upstream` defensively: the page must not break on a response from another server. */
export function upstreamCostOf(result: unknown, operationName: string | null): UpstreamCost | null {
  const upstream = field(field(result, 'extensions'), 'upstream');
  const calls = field(upstream, 'calls');
  const cacheHits = field(upstream, 'cacheHits');
  if (typeof calls !== 'number' || typeof cacheHits !== 'number') return null;
  const limiterWaitMs = field(upstream, 'limiterWaitMs');
  const byApi = field(upstream, 'byApi');
  const plans = field(upstream, 'plans');
  return {
    operationName,
    calls,
    cacheHits,
    estimate: callEstimateOf(field(upstream, 'estimate')) ?? null,
    limiterWaitMs: typeof limiterWaitMs === 'number' ? limiterWaitMs : null,
    byApi: Object.entries(typeof byApi === 'object' && byApi !== null ? byApi : {}).flatMap(
      ([api, value]) => {
        const apiCalls = field(value, 'calls');
        return typeof apiCalls === 'number' ? [{ api, calls: apiCalls }] : [];
      },
    ),
    plans: (Array.isArray(plans) ? (plans as unknown[]) : []).flatMap((plan) => {
      const path = field(plan, 'path');
      const source = field(plan, 'source');
      const planCalls = field(plan, 'calls');
      const fallback = field(plan, 'fallback');
      if (typeof path !== 'string' || typeof source !== 'string' || typeof planCalls !== 'number') return [];
      return [
        { path, source, calls: planCalls, fallback: typeof fallback === 'string' ? fallback : undefined },
      ];
    }),
  };
}

/**
 * The cost pane under the result: before Run, the gateway's estimate of the operation in the editor (or the
 * refusal Run would meet); after Run, what it cost. `cost` is `undefined` before this tab's first run and `null`
 * after a response that carried no upstream report.
 */
export function UpstreamCostPanel({
  operationName,
  estimate,
  cost,
}: {
  readonly operationName: string | null;
  readonly estimate: DryRunState;
  readonly cost: UpstreamCost | null | undefined;
}): ReactElement {
  return h(
    'section',
    { className: 'upstream-cost', 'data-testid': 'upstream-cost', 'aria-live': 'polite' },
    h('h2', null, operationName ? `Upstream cost of ${operationName}` : 'Upstream cost'),
    h(
      'div',
      {
        className: 'upstream-cost-row',
        'data-testid': 'estimate',
        'data-state': estimate.status === 'answered' ? estimate.answer.kind : estimate.status,
        'data-operation': 'operationName' in estimate ? (estimate.operationName ?? '') : '',
      },
      h('h3', null, 'Before Run'),
      h('div', { className: 'upstream-cost-body' }, estimateBody(estimate)),
    ),
    h(
      'div',
      { className: 'upstream-cost-row', 'data-testid': 'run-cost' },
      h('h3', null, 'Last Run'),
      h(
        'div',
        { className: 'upstream-cost-body' },
        cost === undefined
          ? h('p', null, 'Run the operation to see the Defender calls it makes.')
          : cost === null
            ? h('p', null, 'The last response carried no upstream report.')
            : figures([
                ['calls', String(cost.calls)],
                ['cache hits', String(cost.cacheHits)],
                ...(cost.estimate ? [['estimate', rangeText(cost.estimate)] as const] : []),
                ...(cost.limiterWaitMs !== null
                  ? [['limiter wait', `${cost.limiterWaitMs} ms`] as const]
                  : []),
                ...(cost.byApi.some((api) => api.calls > 0)
                  ? [
                      [
                        'by API',
                        cost.byApi
                          .filter((api) => api.calls > 0)
                          .map((api) => `${api.api} ${api.calls}`)
                          .join(' · '),
                      ] as const,
                    ]
                  : []),
                ...cost.plans.map((plan) => [`plan ${plan.path}`, planText(plan)] as const),
              ]),
      ),
    ),
  );
}

const NOT_ESTIMATED: Record<NotEstimated, string> = {
  empty: 'Write an operation to see its estimate.',
  syntax: 'The estimate waits for a document that parses.',
  subscription: 'Subscriptions are not estimated.',
  'no-operation': 'Choose the operation to estimate (place the cursor in it).',
  variables: 'The estimate waits for variables that parse.',
  headers: 'The estimate waits for headers that parse.',
};

/** The "Before Run" part of the pane, for each state of the dry run. */
function estimateBody(state: DryRunState): ReactNode {
  switch (state.status) {
    case 'idle':
      return h('p', null, NOT_ESTIMATED[state.reason]);
    case 'pending':
      return h('p', null, 'Estimating…');
    case 'failed':
      return h('p', null, `No estimate: ${state.message}`);
    case 'answered': {
      const { answer } = state;
      switch (answer.kind) {
        case 'estimate':
          return figures([
            ['estimate', rangeText(answer.estimate)],
            [
              'by API',
              answer.estimate.byApi
                .filter((api) => api.max > 0)
                .map((api) => `${api.api} ${rangeText(api, '')}`)
                .join(' · ') || 'none',
            ],
          ]);
        case 'refused':
          return [
            h('p', { key: 'refusal', className: 'refusal', 'data-figure': 'refusal' }, [
              h('strong', { key: 'code' }, answer.code),
              ` ${answer.message}`,
            ]),
            figures([
              ...(answer.costliestPath ? [['costliest path', answer.costliestPath.join('.')] as const] : []),
              ...(answer.estimate ? [['estimate', rangeText(answer.estimate)] as const] : []),
              ...(answer.retryAfterSeconds !== undefined
                ? [['retry after', `${answer.retryAfterSeconds} s`] as const]
                : []),
            ]),
          ];
        case 'invalid':
          return h('p', null, `Not estimated: ${answer.message}`);
        case 'unsupported':
          return h('p', null, 'This gateway does not estimate before Run.');
      }
    }
  }
}

/** "expected 22 calls (1–42)", or "1–42 calls" from a gateway that gives no expected figure. */
function rangeText(estimate: CallEstimate, unit = ' calls'): string {
  const range = estimate.min === estimate.max ? `${estimate.min}` : `${estimate.min}–${estimate.max}`;
  if (estimate.expected === undefined) return `${range}${unit}`;
  const expected = Math.round(estimate.expected);
  if (estimate.min === estimate.max && expected === estimate.max) return `${expected}${unit}`;
  return unit ? `expected ${expected}${unit} (${range})` : `${expected} (${range})`;
}

/** "hunting, 1 call", or "rest, 20 calls (hunting failed: RATE_LIMITED)". */
function planText(plan: LevelPlan): string {
  const calls = `${plan.source}, ${plan.calls} ${plan.calls === 1 ? 'call' : 'calls'}`;
  return plan.fallback ? `${calls} (hunting failed: ${plan.fallback})` : calls;
}

/** (name, value) pairs as a definition list, each marked with its name for tests and styles. */
function figures(pairs: readonly (readonly [string, string])[]): ReactElement {
  return h(
    'dl',
    { key: 'figures' },
    pairs.map(([name, value]) =>
      h('div', { key: name, 'data-figure': name }, h('dt', null, name), h('dd', null, value)),
    ),
  );
}
