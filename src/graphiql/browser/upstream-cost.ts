import type { GraphiQLProps } from 'graphiql';
import { createElement as h } from 'react';
import type { ReactElement } from 'react';

type Fetcher = GraphiQLProps['fetcher'];
type FetcherResult = Awaited<ReturnType<Fetcher>>;

/** What one response said it cost upstream: the part of the gateway's `extensions.upstream` shown here. */
export interface UpstreamCost {
  /** The operation it was for, when the request named one. */
  readonly operationName: string | null;
  /** HTTP requests the operation sent to Defender. */
  readonly calls: number;
  /** Defender answers it took from the gateway's cache instead. */
  readonly cacheHits: number;
  /** The planner's estimate of the calls, before execution. */
  readonly estimate: { readonly min: number; readonly max: number } | null;
  /** Time the operation's calls waited for the rate limiter (ms). */
  readonly limiterWaitMs: number | null;
}

/**
 * GraphiQL's fetcher for this gateway's queries: a JSON POST to `url` (subscriptions go over WebSocket, see
 * live.ts; the gateway has no incremental delivery), which hands every response's upstream cost to
 * `onCost`. GraphiQL's own schema introspection is not reported, so the panel keeps showing the user's query.
 */
export function costReportingFetcher(
  url: string,
  onCost: (cost: UpstreamCost | null) => void,
  introspectionQueryName = 'IntrospectionQuery',
): Fetcher {
  return async (params, options) => {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json;q=0.9',
    };
    for (const [name, value] of Object.entries(options?.headers ?? {})) headers[name] = String(value);
    const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(params) });
    const result: unknown = await response.json();
    if (params.operationName !== introspectionQueryName) {
      onCost(upstreamCostOf(result, params.operationName ?? null));
    }
    return result as FetcherResult;
  };
}

/** Reads `extensions.upstream` defensively: the page must not break on a response from another server. */
export function upstreamCostOf(result: unknown, operationName: string | null): UpstreamCost | null {
  const upstream = field(field(result, 'extensions'), 'upstream');
  const calls = field(upstream, 'calls');
  const cacheHits = field(upstream, 'cacheHits');
  if (typeof calls !== 'number' || typeof cacheHits !== 'number') return null;
  const estimate = field(upstream, 'estimate');
  const min = field(estimate, 'min');
  const max = field(estimate, 'max');
  const limiterWaitMs = field(upstream, 'limiterWaitMs');
  return {
    operationName,
    calls,
    cacheHits,
    estimate: typeof min === 'number' && typeof max === 'number' ? { min, max } : null,
    limiterWaitMs: typeof limiterWaitMs === 'number' ? limiterWaitMs : null,
  };
}

/** `value[key]` when `value` is an object, so that a chain of lookups needs no casts. */
function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/**
 * The status line under the result: what the last query cost Defender. `cost` is `undefined` before the
 * first query and `null` after a response that carried no upstream report.
 */
export function UpstreamCostPanel({
  cost,
}: {
  readonly cost: UpstreamCost | null | undefined;
}): ReactElement {
  const title = cost?.operationName
    ? `Upstream cost of ${cost.operationName}`
    : 'Upstream cost of the last query';
  return h(
    'section',
    { className: 'upstream-cost', 'data-testid': 'upstream-cost', 'aria-live': 'polite' },
    h('h2', null, title),
    cost === undefined
      ? h('p', null, 'Run a query to see how many Defender calls it made.')
      : cost === null
        ? h('p', null, 'The last response carried no upstream report.')
        : h(
            'dl',
            null,
            figuresOf(cost).map(([name, value]) =>
              h('div', { key: name, 'data-figure': name }, h('dt', null, name), h('dd', null, value)),
            ),
          ),
  );
}

/** The panel's (name, value) pairs, leaving out what the gateway did not report. */
function figuresOf(cost: UpstreamCost): [name: string, value: string][] {
  const figures: [string, string][] = [
    ['calls', String(cost.calls)],
    ['cache hits', String(cost.cacheHits)],
  ];
  if (cost.estimate) figures.push(['estimate', `${cost.estimate.min}–${cost.estimate.max}`]);
  if (cost.limiterWaitMs !== null) figures.push(['limiter wait', `${cost.limiterWaitMs} ms`]);
  return figures;
}
