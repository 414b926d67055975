import type { GraphiQLProps } from 'graphiql';
import { getOperationAST, parse } from 'graphql';
import type { ExecutionResult } from 'graphql';
import { createClient } from 'graphql-ws';
import type { Client } from 'graphql-ws';

type Fetcher = GraphiQLProps['fetcher'];
type FetcherResult = ExecutionResult;

/**
 * Subscriptions from the page: a subscription goes over WebSocket (`graphql-transport-ws`, the bundled
 * `graphql-ws` client, to the page's own host and path, so nothing leaves the gateway), with the headers
 * editor's `Authorization` in `connection_init`; everything else goes to `http`. One connection per set of
 * headers, opened with the first subscription and closed by the client when idle.
 */
export function withSubscriptions(http: Fetcher, url: string): Fetcher {
  const clients = new Map<string, Client>();
  const clientFor = (headers: Record<string, unknown>) => {
    const key = JSON.stringify(headers);
    let client = clients.get(key);
    if (!client) {
      client = createClient({ url, connectionParams: headers, retryAttempts: 0 });
      clients.set(key, client);
    }
    return client;
  };
  return (params, options) => {
    if (!isSubscription(params.query, params.operationName)) return http(params, options);
    const results = clientFor({ ...(options?.headers ?? {}) }).iterate({
      query: params.query,
      ...(params.operationName && { operationName: params.operationName }),
      ...(params.variables && { variables: params.variables }),
    });
    // Results as JSON (errors already formatted by the gateway), which is what GraphiQL shows.
    return results as unknown as AsyncIterableIterator<FetcherResult>;
  };
}

/** Whether the operation GraphiQL runs is a subscription (a document that does not parse is not). */
function isSubscription(query: string, operationName: string | null | undefined): boolean {
  try {
    return getOperationAST(parse(query), operationName ?? undefined)?.operation === 'subscription';
  } catch {
    return false;
  }
}

/** `ws://host/path` for `http://host/path` (and wss for https). */
export function webSocketUrl(location: {
  readonly protocol: string;
  readonly host: string;
  readonly pathname: string;
}): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${location.pathname}`;
}
