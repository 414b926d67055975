import { OperationTypeNode } from 'graphql';
import { describe, expect, it, vi } from 'vitest';
import { withSubscriptions } from '../../../src/graphiql/browser/live.js';
import { operationToRun } from '../../../src/graphiql/browser/operation.js';

/**
 * Which operation GraphiQL's Run runs, and which way it goes. GraphiQL re-reads the operation name 100 ms after
 * the editor changes, so a Run right after a tab switch sends the new tab's document with the old tab's name; the
 * browser test (graphiql.test.ts) runs the LiveAlerts tab that way, over WebSocket.
 */

const LIVE = 'subscription LiveAlerts { alertChanges { kind } }';

describe('the operation Run runs', () => {
  it('is the one GraphiQL names when the document holds it', () => {
    expect(
      operationToRun('query A { rateLimit { api } } subscription B { alertChanges { kind } }', 'B'),
    ).toEqual({
      operationName: 'B',
      type: OperationTypeNode.SUBSCRIPTION,
    });
  });

  it('is the document’s only operation when GraphiQL still names the previous tab’s, or none', () => {
    expect(operationToRun(LIVE, 'Budget')).toEqual({
      operationName: 'LiveAlerts',
      type: OperationTypeNode.SUBSCRIPTION,
    });
    expect(operationToRun('{ rateLimit { api } }', 'Budget')).toEqual({
      operationName: null,
      type: OperationTypeNode.QUERY,
    });
    expect(operationToRun(LIVE, null)?.operationName).toBe('LiveAlerts');
    expect(operationToRun(LIVE, undefined)?.operationName).toBe('LiveAlerts');
  });

  it('is not guessed among several operations, nor in a document that does not parse', () => {
    expect(operationToRun('query A { rateLimit { api } } mutation B { x }', 'Budget')).toBeUndefined();
    expect(operationToRun('query A { rateLimit { api } } mutation B { x }', null)).toBeUndefined();
    expect(operationToRun('{ rateLimit { api ', 'Budget')).toBeUndefined();
    expect(operationToRun('fragment F on Alert { id }', null)).toBeUndefined();
  });
});

describe('withSubscriptions', () => {
  const http = vi.fn(async () => ({ data: {} }));
  const fetcher = withSubscriptions(http, 'ws://127.0.0.1:1/graphql');

  it('sends a query over HTTP with the name of the operation the document holds', async () => {
    http.mockClear();
    await fetcher({ query: 'query AlertWalk { alerts { nodes { id } } }', operationName: 'Budget' }, {});
    expect(http).toHaveBeenCalledWith(
      { query: 'query AlertWalk { alerts { nodes { id } } }', operationName: 'AlertWalk' },
      {},
    );
  });

  it('leaves a request whose operation is not determined as GraphiQL sent it, for the gateway to answer', async () => {
    http.mockClear();
    const params = { query: 'query A { a } query B { b }', operationName: 'C' };
    await fetcher(params, {});
    expect(http).toHaveBeenCalledWith(params, {});
  });
});
