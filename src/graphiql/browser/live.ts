import type { GraphiQLProps } from 'graphiql';
import { OperationTypeNode } from 'graphql';
import type { ExecutionResult } from 'graphql';
import { createClient } from 'graphql-ws';
import type { Client } from 'graphql-ws';
import { operationToRun } from './operation.js';

type Fetcher = GraphiQLProps['fetcher'];
type FetcherResult = ExecutionResult;

/**
 * Subscriptions from the page: a subscription goes over WebSocket (`graphql-transport-ws`, the bundled
 * `graphql-ws` client, to the page's own host and path, so nothing leaves the gateway), with the headers
 * editor's `Authorization` in `connection_init`; everything else goes to `http`. One connection per set of
 * headers, opened with the first subscription and closed by the client when idle.
 *
 * Both ways carry the name of the operation the document holds ({@link operationToRun}), not the stale one
 * GraphiQL may pass right after a tab switch: with the previous tab's name, a subscription tab was sent as a
 * POST (and refused), and a query tab was refused as naming an unknown operation.
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
    const operation = operationToRun(params.query, params.operationName);
    const request = operation ? { ...params, operationName: operation.operationName } : params;
    if (operation?.type !== OperationTypeNode.SUBSCRIPTION) return http(request, options);
    const results = clientFor({ ...(options?.headers ?? {}) }).iterate({
      query: request.query,
      ...(request.operationName && { operationName: request.operationName }),
      ...(request.variables && { variables: request.variables }),
    });
    // Results as JSON (errors already formatted by the gateway), which is what GraphiQL shows.
    return results as unknown as AsyncIterableIterator<FetcherResult>;
  };
}

/** `ws://host/path` for `http://host/path` (and wss for https). */
export function webSocketUrl(location: {
  readonly protocol: string;
  readonly host: string;
  readonly pathname: string;
}): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${location.pathname}`;
}
