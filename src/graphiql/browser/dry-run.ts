/**
 * The estimate GraphiQL shows before Run: the editor's operation sent as a dry run (`x-dry-run: true`, which the
 * gateway plans but never executes, at zero Defender calls), debounced while the user types, and read back from
 * the response's `extensions`. No React and no DOM here, so the rules below are tested in Node.
 */
import { Kind, OperationTypeNode, parse } from 'graphql';

/** The request header that makes a GraphQL request a dry run (docs/clients.md). */
export const DRY_RUN_HEADER = 'x-dry-run';

/** What the editor holds: the active tab's document, its selected operation, variables and headers. */
export interface EditorRequest {
  readonly query: string;
  /** The operation GraphiQL would run (its selection in a document of several). */
  readonly operationName: string | null;
  /** The variables, parsed; undefined when the editor's JSON does not parse. */
  readonly variables: Record<string, unknown> | undefined;
  /** The request headers, parsed; undefined when the editor's JSON does not parse. */
  readonly headers: Record<string, unknown> | undefined;
}

/** A dry run to send: the body GraphiQL's Run would send, and its headers plus {@link DRY_RUN_HEADER}. */
export interface DryRunRequest {
  readonly params: {
    readonly query: string;
    readonly operationName: string | null;
    readonly variables: Record<string, unknown>;
  };
  readonly headers: Record<string, string>;
}

/** Why nothing is sent for what the editor holds. */
export type NotEstimated = 'empty' | 'syntax' | 'subscription' | 'no-operation' | 'variables' | 'headers';

/** Calls as the gateway estimates them: the fewest, the most and the expected number. */
export interface CallEstimate {
  readonly min: number;
  readonly max: number;
  /** Absent from a gateway that does not estimate an expected cost. */
  readonly expected: number | undefined;
}

export interface Estimate extends CallEstimate {
  /** Per Defender API, in the order the gateway listed them. */
  readonly byApi: readonly (CallEstimate & { readonly api: string })[];
}

/** What the gateway answered to a dry run. */
export type DryRunAnswer =
  /** It would run, at about this cost. */
  | { readonly kind: 'estimate'; readonly estimate: Estimate }
  /** It would be refused before any call, with this error (QUERY_TOO_EXPENSIVE or RATE_LIMITED). */
  | {
      readonly kind: 'refused';
      readonly code: string;
      readonly message: string;
      /** The response path, as field names, of the field whose fan-out costs most. */
      readonly costliestPath: readonly string[] | undefined;
      readonly retryAfterSeconds: number | undefined;
      readonly estimate: CallEstimate | undefined;
    }
  /** It does not validate (or the gateway answered another error): the first message. */
  | { readonly kind: 'invalid'; readonly message: string }
  /** The gateway ran it instead: it does not know dry runs, so no more are sent. */
  | { readonly kind: 'unsupported' };

/** What the cost pane shows before Run, for the operation in the editor. */
export type DryRunState =
  | { readonly status: 'idle'; readonly reason: NotEstimated }
  | { readonly status: 'pending'; readonly operationName: string | null }
  | { readonly status: 'answered'; readonly operationName: string | null; readonly answer: DryRunAnswer }
  | { readonly status: 'failed'; readonly operationName: string | null; readonly message: string };

/**
 * The dry run for what the editor holds, or why there is none: nothing is sent for a document that does not
 * parse (it would only come back as a syntax error while the user is typing), for a subscription (the gateway
 * estimates queries; a subscription's cost is its poll's), when the operation to run is not determined, or
 * while the variables or headers are not valid JSON (Run would not send them either).
 */
export function dryRunFor(editor: EditorRequest): DryRunRequest | NotEstimated {
  if (editor.query.trim() === '') return 'empty';
  let document;
  try {
    document = parse(editor.query);
  } catch {
    return 'syntax';
  }
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const operation =
    operations.find((o) => editor.operationName !== null && o.name?.value === editor.operationName) ??
    (operations.length === 1 ? operations[0] : undefined);
  if (!operation) return operations.length === 0 ? 'empty' : 'no-operation';
  if (operation.operation === OperationTypeNode.SUBSCRIPTION) return 'subscription';
  if (editor.variables === undefined) return 'variables';
  if (editor.headers === undefined) return 'headers';
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(editor.headers)) headers[name] = String(value);
  headers[DRY_RUN_HEADER] = 'true';
  return {
    params: {
      query: editor.query,
      operationName: operation.name?.value ?? null,
      variables: editor.variables,
    },
    headers,
  };
}

/**
 * Reads a dry run's response defensively (the page must not break on another server's answer): the estimate of
 * `extensions.upstream`, or the refusal the real run would meet with its `extensions.cost`.
 */
export function readDryRun(result: unknown): DryRunAnswer {
  const errors = field(result, 'errors');
  const upstream = field(field(result, 'extensions'), 'upstream');
  if (Array.isArray(errors) && errors.length > 0) {
    const first: unknown = errors[0];
    const message = String(field(first, 'message') ?? 'The gateway refused the operation.');
    const extensions = field(first, 'extensions');
    const code = field(extensions, 'code');
    const cost = field(extensions, 'cost');
    if ((code === 'QUERY_TOO_EXPENSIVE' || code === 'RATE_LIMITED') && cost !== undefined) {
      const path = field(cost, 'costliestPath');
      const retryAfter = field(extensions, 'retryAfterSeconds');
      const min = field(cost, 'estimated');
      const max = field(cost, 'estimatedMax');
      return {
        kind: 'refused',
        code,
        message,
        costliestPath:
          Array.isArray(path) && path.every((p) => typeof p === 'string') ? (path as string[]) : undefined,
        retryAfterSeconds: typeof retryAfter === 'number' ? retryAfter : undefined,
        estimate:
          typeof min === 'number' && typeof max === 'number'
            ? { min, max, expected: numberOr(field(cost, 'expected')) }
            : undefined,
      };
    }
    return { kind: 'invalid', message };
  }
  if (field(upstream, 'dryRun') !== true) return { kind: 'unsupported' };
  const estimate = callEstimateOf(field(upstream, 'estimate'));
  if (!estimate) return { kind: 'invalid', message: 'The gateway answered the dry run with no estimate.' };
  const byApi = field(field(upstream, 'estimate'), 'byApi');
  return {
    kind: 'estimate',
    estimate: {
      ...estimate,
      byApi: Object.entries(typeof byApi === 'object' && byApi !== null ? byApi : {}).flatMap(
        ([api, value]) => {
          const range = callEstimateOf(value);
          return range ? [{ api, ...range }] : [];
        },
      ),
    },
  };
}

/** `{ min, max, expected? }` when `value` has numeric `min` and `max`. */
export function callEstimateOf(value: unknown): CallEstimate | undefined {
  const min = field(value, 'min');
  const max = field(value, 'max');
  if (typeof min !== 'number' || typeof max !== 'number') return undefined;
  return { min, max, expected: numberOr(field(value, 'expected')) };
}

export interface DryRunsOptions {
  /** Sends a dry run; its answer is the parsed response body. The signal aborts it when it is no longer wanted. */
  readonly send: (request: DryRunRequest, signal: AbortSignal) => Promise<unknown>;
  /** Called with every new state, in order. */
  readonly onState: (state: DryRunState) => void;
  /** Quiet time after the last change before a dry run is sent (ms). Default 400. */
  readonly delayMs?: number;
  /** Timers, for tests. Default: the global ones. */
  readonly timers?: {
    setTimeout(callback: () => void, ms: number): unknown;
    clearTimeout(handle: unknown): void;
  };
}

/**
 * The dry runs of one editor: {@link DryRuns.update} on every change; one request once the editor has been quiet
 * for `delayMs`, none while it says the same thing as the last one. A newer change aborts the older request and
 * drops its answer, whenever it comes, so the pane never shows the estimate of a document no longer in the
 * editor. Nothing here waits on the user: typing only restarts a timer.
 */
export class DryRuns {
  readonly #options: DryRunsOptions;
  readonly #timers: NonNullable<DryRunsOptions['timers']>;
  /** The request last asked for, as a comparable string; an answer for another one is dropped. */
  #current: string | undefined;
  #timer: unknown;
  #inFlight: AbortController | undefined;
  /** False once the gateway ran a dry run for real: it does not know them, and each would spend its calls. */
  #supported = true;

  constructor(options: DryRunsOptions) {
    this.#options = options;
    this.#timers = options.timers ?? {
      setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
      clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
    };
  }

  /** What the editor holds now. */
  update(editor: EditorRequest): void {
    if (!this.#supported) return;
    const request = dryRunFor(editor);
    const key = JSON.stringify(request);
    if (key === this.#current) return;
    this.#cancel();
    this.#current = key;
    if (typeof request === 'string') {
      this.#options.onState({ status: 'idle', reason: request });
      return;
    }
    const { operationName } = request.params;
    this.#options.onState({ status: 'pending', operationName });
    this.#timer = this.#timers.setTimeout(() => void this.#send(key, request), this.#options.delayMs ?? 400);
  }

  /** Stops the timer and the request in flight, as the page goes. */
  dispose(): void {
    this.#cancel();
    this.#current = undefined;
  }

  async #send(key: string, request: DryRunRequest): Promise<void> {
    this.#timer = undefined;
    const controller = new AbortController();
    this.#inFlight = controller;
    const { operationName } = request.params;
    let state: DryRunState;
    try {
      const answer = readDryRun(await this.#options.send(request, controller.signal));
      if (answer.kind === 'unsupported') this.#supported = false;
      state = { status: 'answered', operationName, answer };
    } catch (error) {
      state = { status: 'failed', operationName, message: (error as Error).message };
    }
    // An answer for what the editor no longer holds (or an aborted request) is dropped.
    if (key !== this.#current || controller.signal.aborted) return;
    this.#inFlight = undefined;
    this.#options.onState(state);
  }

  #cancel(): void {
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#inFlight?.abort();
    this.#inFlight = undefined;
  }
}

function numberOr(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

/** `value[key]` when `value` is an object, so that a chain of lookups needs no casts. */
export function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}
