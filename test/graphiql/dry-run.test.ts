import { describe, expect, it, vi } from 'vitest';
import type { DryRunRequest, DryRunState, EditorRequest } from '../../src/graphiql/browser/dry-run.js';
import { DryRuns, dryRunFor, readDryRun } from '../../src/graphiql/browser/dry-run.js';

/**
 * The rules of GraphiQL's estimate before Run, in Node: what is sent as a dry run, how its answer is read, and
 * how the editor's changes are debounced without ever showing the answer for a document no longer there. The
 * browser test (graphiql.test.ts) drives the same code against the gateway.
 */

const editor = (query: string, more: Partial<EditorRequest> = {}): EditorRequest => ({
  query,
  operationName: null,
  variables: {},
  headers: {},
  ...more,
});

describe('the dry run for what the editor holds', () => {
  it('is the request Run would send, with the tab’s headers and x-dry-run: true', () => {
    expect(
      dryRunFor(
        editor('query M($id: ID!) { machine(id: $id) { id } }', {
          operationName: 'M',
          variables: { id: 'm1' },
          headers: { Authorization: 'Bearer t' },
        }),
      ),
    ).toEqual({
      params: {
        query: 'query M($id: ID!) { machine(id: $id) { id } }',
        operationName: 'M',
        variables: { id: 'm1' },
      },
      headers: { Authorization: 'Bearer t', 'x-dry-run': 'true' },
    });
  });

  it('names the operation GraphiQL would run in a document of several', () => {
    const request = dryRunFor(
      editor('query A { rateLimit { api } } query B { rateLimit { limit } }', { operationName: 'B' }),
    );
    expect(request).toMatchObject({ params: { operationName: 'B' } });
  });

  it.each([
    ['an empty editor', editor('  '), 'empty'],
    ['a document that does not parse', editor('{ alerts { nodes { id '), 'syntax'],
    ['a subscription', editor('subscription { alertChanges { kind } }'), 'subscription'],
    [
      'a subscription among queries, selected',
      editor('query A { rateLimit { api } } subscription S { alertChanges { kind } }', {
        operationName: 'S',
      }),
      'subscription',
    ],
    [
      'several operations, none selected',
      editor('query A { rateLimit { api } } query B { rateLimit { api } }'),
      'no-operation',
    ],
    ['fragments only', editor('fragment F on Alert { id }'), 'empty'],
    ['variables that do not parse', editor('{ rateLimit { api } }', { variables: undefined }), 'variables'],
    ['headers that do not parse', editor('{ rateLimit { api } }', { headers: undefined }), 'headers'],
  ])('is not sent for %s', (_, input, reason) => {
    expect(dryRunFor(input)).toBe(reason);
  });
});

describe("a dry run's answer", () => {
  it('is the estimate of extensions.upstream, per API', () => {
    const answer = readDryRun({
      extensions: {
        upstream: {
          calls: 0,
          cacheHits: 0,
          dryRun: true,
          estimate: {
            min: 1,
            max: 42,
            expected: 31.6,
            byApi: {
              alerts: { min: 1, max: 1, expected: 1 },
              'users/{id}/machines': { min: 0, max: 10, expected: 8 },
            },
          },
        },
      },
    });
    expect(answer).toEqual({
      kind: 'estimate',
      estimate: {
        min: 1,
        max: 42,
        expected: 31.6,
        byApi: [
          { api: 'alerts', min: 1, max: 1, expected: 1 },
          { api: 'users/{id}/machines', min: 0, max: 10, expected: 8 },
        ],
      },
    });
  });

  it('is the refusal the run would meet, with its costliest path', () => {
    const answer = readDryRun({
      errors: [
        {
          message: 'too many',
          extensions: {
            code: 'QUERY_TOO_EXPENSIVE',
            cost: {
              estimated: 1,
              estimatedMax: 2021,
              expected: 240,
              max: 100,
              costliestPath: ['alerts', 'nodes', 'user'],
            },
          },
        },
      ],
      extensions: { upstream: { calls: 0, cacheHits: 0, dryRun: true } },
    });
    expect(answer).toEqual({
      kind: 'refused',
      code: 'QUERY_TOO_EXPENSIVE',
      message: 'too many',
      costliestPath: ['alerts', 'nodes', 'user'],
      retryAfterSeconds: undefined,
      estimate: { min: 1, max: 2021, expected: 240 },
    });
    const limited = readDryRun({
      errors: [
        {
          message: 'later',
          extensions: {
            code: 'RATE_LIMITED',
            retryAfterSeconds: 12,
            cost: { estimated: 5, estimatedMax: 5 },
          },
        },
      ],
    });
    expect(limited).toMatchObject({ kind: 'refused', code: 'RATE_LIMITED', retryAfterSeconds: 12 });
  });

  it('is the first message of any other error (a document that does not validate)', () => {
    expect(
      readDryRun({
        errors: [
          {
            message: 'Cannot query field "nope" on type "Query".',
            extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
          },
        ],
      }),
    ).toEqual({ kind: 'invalid', message: 'Cannot query field "nope" on type "Query".' });
  });

  it('says the gateway does not know dry runs when it ran the operation instead', () => {
    expect(
      readDryRun({ data: { rateLimit: [] }, extensions: { upstream: { calls: 0, cacheHits: 0 } } }),
    ).toEqual({
      kind: 'unsupported',
    });
  });
});

describe('the dry runs of an editor', () => {
  const ESTIMATE = {
    extensions: { upstream: { calls: 0, cacheHits: 0, dryRun: true, estimate: { min: 1, max: 1 } } },
  };

  /** DryRuns with fake timers and a `send` whose answers the test releases one by one. */
  function setup() {
    vi.useFakeTimers();
    const sent: { request: DryRunRequest; signal: AbortSignal; answer: (body: unknown) => void }[] = [];
    const states: DryRunState[] = [];
    const dryRuns = new DryRuns({
      send: (request, signal) => new Promise((resolve) => sent.push({ request, signal, answer: resolve })),
      onState: (state) => states.push(state),
    });
    return { dryRuns, sent, states, [Symbol.dispose]: () => vi.useRealTimers() };
  }

  it('sends one once the editor has been quiet for 400 ms, for what it holds then', () => {
    using t = setup();
    t.dryRuns.update(editor('query A { rateLimit { api } }'));
    vi.advanceTimersByTime(399);
    t.dryRuns.update(editor('query AB { rateLimit { api } }'));
    vi.advanceTimersByTime(399);
    t.dryRuns.update(editor('query ABC { rateLimit { api } }'));
    expect(t.sent).toEqual([]);
    vi.advanceTimersByTime(400);
    expect(t.sent.map((s) => s.request.params.operationName)).toEqual(['ABC']);
    expect(t.states.at(-1)).toEqual({ status: 'pending', operationName: 'ABC' });
  });

  it('sends nothing again while the editor says the same thing', () => {
    using t = setup();
    t.dryRuns.update(editor('query A { rateLimit { api } }'));
    vi.advanceTimersByTime(400);
    t.dryRuns.update(editor('query A { rateLimit { api } }'));
    vi.advanceTimersByTime(400);
    expect(t.sent).toHaveLength(1);
  });

  it('drops the answer for a document no longer in the editor, even one that comes last', async () => {
    using t = setup();
    t.dryRuns.update(editor('query Old { rateLimit { api } }'));
    vi.advanceTimersByTime(400);
    t.dryRuns.update(editor('query New { rateLimit { api } }'));
    vi.advanceTimersByTime(400);
    const [old, current] = t.sent;
    expect(old!.signal.aborted).toBe(true);
    current!.answer(ESTIMATE);
    await vi.runAllTimersAsync();
    old!.answer(ESTIMATE); // ignoring its abort, as a slow server's answer could
    await vi.runAllTimersAsync();
    expect(t.states.filter((s) => s.status === 'answered')).toEqual([
      { status: 'answered', operationName: 'New', answer: expect.objectContaining({ kind: 'estimate' }) },
    ]);
    expect(t.states.at(-1)).toMatchObject({ status: 'answered', operationName: 'New' });
  });

  it('forgets a pending dry run when the document stops parsing, and says why', async () => {
    using t = setup();
    t.dryRuns.update(editor('query A { rateLimit { api } }'));
    t.dryRuns.update(editor('query A { rateLimit { api '));
    await vi.runAllTimersAsync();
    expect(t.sent).toEqual([]);
    expect(t.states.at(-1)).toEqual({ status: 'idle', reason: 'syntax' });
  });

  it('stops sending once a gateway ran a dry run for real', async () => {
    using t = setup();
    t.dryRuns.update(editor('query A { rateLimit { api } }'));
    vi.advanceTimersByTime(400);
    t.sent[0]!.answer({ data: { rateLimit: [] }, extensions: { upstream: { calls: 0, cacheHits: 0 } } });
    await vi.runAllTimersAsync();
    t.dryRuns.update(editor('query B { rateLimit { api } }'));
    await vi.runAllTimersAsync();
    expect(t.sent).toHaveLength(1);
    expect(t.states.at(-1)).toMatchObject({ status: 'answered', answer: { kind: 'unsupported' } });
  });
});
