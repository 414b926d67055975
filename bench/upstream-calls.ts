import { isDeepStrictEqual } from 'node:util';
import type { RateLimitWindow } from '../src/rate-limit/windows.js';
import type { SimulatorCall } from '../src/simulator/server.js';
import type { GraphQLAnswer, UpstreamExtension } from './gateway.js';
import { startBenchStack } from './gateway.js';
import type { CallCount } from './lower-bound.js';
import { naiveCalls } from './naive.js';
import type { BenchQuery } from './queries.js';

export interface UpstreamCallsOptions {
  readonly seed: number;
  /** Limits on both sides, generous so that throttling does not interfere. */
  readonly rateLimits: readonly RateLimitWindow[];
  /** The simulator's latency per answer (ms). */
  readonly latencyMs: number;
}

/** What one run of an operation cost, as the simulator saw it and as the gateway reported it. */
export interface RunCost {
  /** Calls in the simulator's log. */
  readonly calls: number;
  readonly byApi: Readonly<Record<string, number>>;
  /** `extensions.upstream` of the answer, as sent. */
  readonly upstream: UpstreamExtension | undefined;
  /** Error codes of the answer, if any. */
  readonly errors: readonly string[];
  readonly durationMs: number;
}

export interface QueryCalls {
  readonly query: BenchQuery;
  readonly lowerBound: CallCount;
  /** One call per resolved field, no DataLoader, no cache (from the cold answer). */
  readonly naive: number;
  readonly cold: RunCost;
  readonly warm: RunCost;
  /** The warm answer's data equals the cold one's. */
  readonly warmAnswerSame: boolean;
  readonly answerBytes: number;
}

/**
 * Runs every query on a fresh simulator and gateway (cold cache), then once more on the same gateway (warm),
 * counting the calls that reached the simulator each time.
 */
export async function measureUpstreamCalls(
  queries: readonly BenchQuery[],
  options: UpstreamCallsOptions,
): Promise<QueryCalls[]> {
  const results: QueryCalls[] = [];
  for (const query of queries) {
    const stack = await startBenchStack(
      { seed: options.seed, rateLimits: options.rateLimits, latencyMs: options.latencyMs },
      { rateLimits: options.rateLimits, requestDeadlineMs: 30_000, cacheTtlMs: 600_000 },
    );
    try {
      const run = async (): Promise<{ cost: RunCost; answer: GraphQLAnswer }> => {
        stack.sim.resetCalls();
        const started = performance.now();
        const answer = await stack.query(query.query);
        const durationMs = performance.now() - started;
        return { answer, cost: costOf(answer, stack.sim.calls, durationMs) };
      };
      const cold = await run();
      const warm = await run();
      results.push({
        query,
        lowerBound: query.lowerBound,
        naive: naiveCalls(query.query, cold.answer.data ?? {}),
        cold: cold.cost,
        warm: warm.cost,
        warmAnswerSame: isDeepStrictEqual(cold.answer.data, warm.answer.data),
        answerBytes: Buffer.byteLength(JSON.stringify(cold.answer.data ?? null)),
      });
    } finally {
      await stack.close();
    }
  }
  return results;
}

function costOf(answer: GraphQLAnswer, calls: readonly SimulatorCall[], durationMs: number): RunCost {
  const byApi: Record<string, number> = {};
  for (const call of calls)
    byApi[call.api ?? 'unknown route'] = (byApi[call.api ?? 'unknown route'] ?? 0) + 1;
  return {
    calls: calls.length,
    byApi,
    upstream: answer.extensions?.upstream,
    errors: (answer.errors ?? []).map((e) => String(e.extensions?.['code'] ?? e.message)),
    durationMs,
  };
}
