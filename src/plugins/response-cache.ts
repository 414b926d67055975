import type { ApolloServerPlugin } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import type { FormattedExecutionResult } from 'graphql';
import type { CachedResponse } from '../cache/response-cache.js';
import { ResponseCache } from '../cache/response-cache.js';
import type { GraphQLContext } from '../graphql/context.js';
import { isDryRun } from './dry-run.js';

export interface ResponseCachePluginOptions {
  /** Results of operations, reused while their upstream answers are fresh. */
  readonly responseCache: ResponseCache;
  /** Longest a result built from no upstream answer at all is reused (ms). Default 60 s. */
  readonly maxResponseAgeMs?: number;
}

/** Where a query's result is kept, and the stored result it is answered with, if any. */
interface Entry {
  readonly key: string;
  readonly stored: CachedResponse | undefined;
}

/** This plugin's per-request state, keyed by the request's context: no other plugin writes it. */
const entries = new WeakMap<GraphQLContext, Entry>();

/**
 * The stored result a request is answered with, without executing; undefined when none (or before its
 * operation is resolved). Admission skips such a request, the report and the log line say so.
 */
export function storedResultOf(context: GraphQLContext | undefined): CachedResponse | undefined {
  return context && entries.get(context)?.stored;
}

/**
 * Whole results of queries: an identical query (same upstream identity, document, operation and variables)
 * is answered with the stored result while every upstream answer it was built from is fresh, and nothing runs.
 * `Cache-Control: no-cache` skips the stored result (and stores the new one); a dry run neither reads nor stores.
 *
 * The decision is made synchronously when the operation is resolved: Apollo starts every plugin's
 * `didResolveOperation` in the order the plugins are listed, so a plugin listed after this one (admission)
 * already sees it.
 */
export function responseCachePlugin(options: ResponseCachePluginOptions): ApolloServerPlugin<GraphQLContext> {
  const { responseCache } = options;
  return {
    async requestDidStart({ contextValue }) {
      // Read before the operation is resolved, so that the decision below stays synchronous; the operation
      // keeps this generation for every answer it reads (defender/client.ts).
      const alertGeneration = await contextValue.client.alertGeneration(contextValue.scope);
      return {
        async didResolveOperation({ request, contextValue, queryHash, operationName, operation }) {
          // A dry run is answered with an estimate: no stored result serves it, and it stores none.
          if (operation?.operation !== 'query' || isDryRun(request)) return;
          const { client, scope } = contextValue;
          const key = ResponseCache.keyFor(
            client.identityOf(scope),
            alertGeneration,
            queryHash,
            operationName ?? undefined,
            request.variables,
          );
          entries.set(contextValue, { key, stored: scope.fresh ? undefined : responseCache.get(key) });
        },

        async responseForOperation({ contextValue }) {
          const stored = storedResultOf(contextValue);
          if (!stored) return null;
          return {
            http: { headers: new HeaderMap() },
            body: { kind: 'single', singleResult: { data: stored.data } },
          };
        },

        async willSendResponse({ response, contextValue }) {
          const entry = contextValue && entries.get(contextValue);
          if (response.body.kind !== 'single' || !entry || entry.stored) return;
          keepResult(response.body.singleResult, entry.key, contextValue, options);
        },
      };
    },
  };
}

/** Keeps an error-free result while all it was built from is fresh, for identical operations to reuse. */
function keepResult(
  result: FormattedExecutionResult,
  key: string,
  context: GraphQLContext,
  options: ResponseCachePluginOptions,
): void {
  if (result.errors?.length || !result.data) return;
  const now = Date.now();
  const { freshUntil, calls, cacheHits, sharedCalls, staleHits } = context.scope.stats;
  if (staleHits > 0) return;
  const validUntil = Math.min(freshUntil, now + (options.maxResponseAgeMs ?? 60_000));
  options.responseCache.set(
    key,
    { data: result.data, validUntil, answers: calls + cacheHits + sharedCalls },
    now,
  );
}
