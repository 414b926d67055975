import type { GraphQLError, GraphQLFormattedError } from 'graphql';

/** The error codes of the contract (`errors[].extensions.code`). Codes are public; classes stay private. */
export const ErrorCode = {
  BadUserInput: 'BAD_USER_INPUT',
  Unauthenticated: 'UNAUTHENTICATED',
  Forbidden: 'FORBIDDEN',
  RateLimited: 'RATE_LIMITED',
  QueryTooExpensive: 'QUERY_TOO_EXPENSIVE',
  UpstreamUnavailable: 'UPSTREAM_UNAVAILABLE',
  UpstreamBadResponse: 'UPSTREAM_BAD_RESPONSE',
  GraphQLValidationFailed: 'GRAPHQL_VALIDATION_FAILED',
  InternalServerError: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * An error whose message and extensions are safe to show a client. Anything else that reaches the client is
 * masked to INTERNAL_SERVER_ERROR by {@link formatError}.
 */
export class GatewayError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extensions: Readonly<Record<string, unknown>> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'GatewayError';
  }
}

export const badUserInput = (message: string) => new GatewayError(ErrorCode.BadUserInput, message);

export const rateLimited = (retryAfterSeconds: number, api: string) =>
  new GatewayError(
    ErrorCode.RateLimited,
    `The Defender budget for ${api} cannot serve this in time; retry after ${retryAfterSeconds} s.`,
    { retryAfterSeconds },
  );

/**
 * The gateway runs as many operations as it may at once: the same retryable RATE_LIMITED, since the caller's
 * remedy is the same (wait `retryAfterSeconds`, then retry).
 */
export const overloaded = (retryAfterSeconds: number) =>
  new GatewayError(
    ErrorCode.RateLimited,
    `The gateway is running as many operations as it can; retry after ${retryAfterSeconds} s.`,
    { retryAfterSeconds },
  );

/**
 * What the Defender client does with one HTTP status of Defender's answer (outbound; the HTTP layer's refusals
 * of inbound requests are {@link frameworkRefusal}'s table):
 * - `answer`: 200, its body parsed and checked; `absent`: 404, the entity does not exist (an answer too, cached
 *   like any other, whose meaning the caller decides for its route);
 * - `throttle`: 429, Defender's own throttling: the API's budget pauses for Retry-After and the call is retried,
 *   then fails {@link defenderThrottling};
 * - `retry`: a 5xx, retried with backoff like a timeout or a network error, then {@link defenderUnavailable};
 * - `refusal`: this error at once, never retried. `answered` says Defender showed it is up (its 4xx refusals),
 *   which the circuit breaker counts as a success; an unexpected status says nothing about its health.
 */
export type DefenderStatusRule =
  | { readonly kind: 'answer' | 'absent' | 'throttle' | 'retry' }
  | {
      readonly kind: 'refusal';
      readonly code: ErrorCode;
      readonly message: string;
      readonly answered: boolean;
    };

const refusedBy = (code: ErrorCode, message: string): DefenderStatusRule => ({
  kind: 'refusal',
  code,
  message,
  answered: true,
});

/** The statuses Defender documents (`docs/defender-api.md` §4.3); {@link defenderStatusRule} covers the rest. */
const DEFENDER_STATUS_RULES: Readonly<Record<number, DefenderStatusRule>> = {
  200: { kind: 'answer' },
  404: { kind: 'absent' },
  429: { kind: 'throttle' },
  400: refusedBy(ErrorCode.BadUserInput, 'Defender rejected the request as invalid.'),
  401: refusedBy(ErrorCode.Unauthenticated, "Defender refused the gateway's credentials."),
  403: refusedBy(ErrorCode.Forbidden, 'Defender refused access: the credentials lack a permission.'),
};

/** The rule for `status`: the table's, any 5xx retried, anything else UPSTREAM_BAD_RESPONSE. */
export function defenderStatusRule(status: number): DefenderStatusRule {
  if (Object.hasOwn(DEFENDER_STATUS_RULES, status)) return DEFENDER_STATUS_RULES[status]!;
  if (status >= 500) return { kind: 'retry' };
  return {
    kind: 'refusal',
    code: ErrorCode.UpstreamBadResponse,
    message: `Defender answered with an unexpected status ${status}.`,
    answered: false,
  };
}

/** A 429 still there after the throttle retries: the client may retry once Defender's Retry-After has passed. */
export const defenderThrottling = (api: string, retryAfterMs: number) =>
  new GatewayError(ErrorCode.RateLimited, `Defender is throttling ${api}; retry later.`, {
    retryAfterSeconds: Math.ceil(retryAfterMs / 1000),
  });

/** A 5xx, timeout or network error still there after the retries; `cause` keeps the last one (for logs only). */
export const defenderUnavailable = (api: string, cause: unknown) =>
  new GatewayError(ErrorCode.UpstreamUnavailable, `Defender did not answer ${api}.`, {}, { cause });

/**
 * A write that is not idempotent (it carries a comment) failed in a way that leaves unknown whether Defender
 * applied it (timeout, reset connection, body cut short): it is not sent again, and the person is told to look.
 */
export const writeOutcomeUnknown = (api: string, cause: unknown) =>
  new GatewayError(
    ErrorCode.UpstreamUnavailable,
    `Defender did not confirm ${api}: the change may or may not have been applied. Check the alert before trying again.`,
    { outcome: 'unknown' },
    { cause },
  );

/**
 * The operation's deadline (`REQUEST_DEADLINE_MS`) came before Defender answered: the attempt in flight was cut
 * short, or the next would have started (or its backoff ended) past it. `cause` keeps the last failure, if any.
 */
export const defenderPastDeadline = (api: string, cause?: unknown) =>
  new GatewayError(
    ErrorCode.UpstreamUnavailable,
    `Defender did not answer ${api} before the request's deadline.`,
    {},
    cause === undefined ? undefined : { cause },
  );

/** A 200 whose body is not JSON, or not the route's documented shape: never cached nor served. */
export const defenderBadBody = (why: 'not JSON' | 'not the documented shape') =>
  new GatewayError(
    ErrorCode.UpstreamBadResponse,
    why === 'not JSON'
      ? 'Defender answered something that is not JSON.'
      : 'Defender answered something that is not the documented shape.',
  );

/**
 * Apollo's automatic persisted queries protocol: clients act on these codes (PERSISTED_QUERY_NOT_FOUND makes
 * them resend the query with its hash), so they pass through as Apollo spells them.
 */
export const PersistedQueryCode = {
  NotFound: 'PERSISTED_QUERY_NOT_FOUND',
  NotSupported: 'PERSISTED_QUERY_NOT_SUPPORTED',
} as const;
export type PersistedQueryCode = (typeof PersistedQueryCode)[keyof typeof PersistedQueryCode];

/** A code a client may see: the contract's, or the persisted-query protocol's. */
export type ClientCode = ErrorCode | PersistedQueryCode;

/**
 * Apollo's codes for errors in the request itself, and the contract code each one becomes; they carry no
 * upstream detail, so their messages pass through. A document that does not parse (one over the token limit
 * included, a size limit) is not a valid document: GRAPHQL_VALIDATION_FAILED. A malformed request (no query,
 * a query that is not a string, an unknown operation name, a GET mutation, a CSRF refusal) is BAD_USER_INPUT.
 */
const REQUEST_CODES: Readonly<Record<string, ClientCode>> = {
  GRAPHQL_PARSE_FAILED: ErrorCode.GraphQLValidationFailed,
  GRAPHQL_VALIDATION_FAILED: ErrorCode.GraphQLValidationFailed,
  BAD_USER_INPUT: ErrorCode.BadUserInput,
  BAD_REQUEST: ErrorCode.BadUserInput,
  OPERATION_RESOLUTION_FAILURE: ErrorCode.BadUserInput,
  PERSISTED_QUERY_NOT_FOUND: PersistedQueryCode.NotFound,
  PERSISTED_QUERY_NOT_SUPPORTED: PersistedQueryCode.NotSupported,
};

export interface ErrorFormatOptions {
  /**
   * Remove graphql-js's "Did you mean …?" suggestions from every message, which spell out field, argument, type
   * and enum names a client did not ask for (production: introspection is off). Default false.
   */
  readonly hideSuggestions?: boolean;
}

/** Apollo's `formatError`: {@link formatError}, and in production without suggestions. */
export function errorFormatter(
  options: ErrorFormatOptions = {},
): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError {
  if (!options.hideSuggestions) return formatError;
  return (formatted, error) => {
    const safe = formatError(formatted, error);
    return { ...safe, message: withoutSuggestions(safe.message) };
  };
}

/**
 * graphql-js's suggestions: ` Did you mean "a", "b", or "c"?`, ` Did you mean the enum value "NEW"?`, ` Did you
 * mean to use an inline fragment on "T"?`. Apollo's own hiding covers validation only; variable coercion
 * (`Variable "$s" got invalid value "NEWW"; … Did you mean the enum value "NEW"?`) reaches here untouched. A
 * suggestion ends at its `?`, which no GraphQL name contains.
 */
const SUGGESTION = / ?Did you mean\b[^?]*\?/g;

function withoutSuggestions(message: string): string {
  return message.replace(SUGGESTION, '');
}

/**
 * The one place a thrown value becomes a client error: gateway errors keep their code, message and
 * extensions; GraphQL's own request errors (parse, validation, variable coercion) and Apollo's refusals of a
 * malformed request pass through with their message and a contract code; everything else — a bug, a
 * serialization error over an unexpected upstream value — is masked, so no stack, upstream URL, upstream
 * message or token ever reaches a client.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const { message, locations, path } = formatted;
  const base = { message, ...(locations && { locations }), ...(path && { path }) };
  const chain = causes(error);
  const known = chain.find((e): e is GatewayError => e instanceof GatewayError);
  if (known)
    return { ...base, message: known.message, extensions: { ...known.extensions, code: known.code } };
  const [outermost] = chain;
  const code = chain.every(isGraphQLError) ? requestCodeOf(outermost as GraphQLError) : undefined;
  if (code) return { ...base, extensions: { code } };
  return { ...base, message: 'Internal server error', extensions: { code: ErrorCode.InternalServerError } };
}

/**
 * The contract code of a request error, or undefined for anything else. Apollo refuses a few malformed
 * requests (a persisted-query hash that does not match its query, an unknown persisted-query version) with an
 * HTTP 4xx status and no code, which it would report as INTERNAL_SERVER_ERROR: those are bad input too.
 */
function requestCodeOf(error: GraphQLError): ClientCode | undefined {
  // graphql-jit's errors may have no extensions at all.
  const code = error.extensions?.['code'];
  if (typeof code === 'string') return Object.hasOwn(REQUEST_CODES, code) ? REQUEST_CODES[code] : undefined;
  if (code !== undefined) return undefined;
  const status = (error.extensions?.['http'] as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' && status >= 400 && status < 500 ? ErrorCode.BadUserInput : undefined;
}

/**
 * When every error of a response without data is RATE_LIMITED with a `retryAfterSeconds`, the budget refused
 * the whole operation: the response is an HTTP 429 with this `Retry-After`, in whole seconds (the largest
 * wait, rounded up, at least 1). Undefined for any other response.
 */
export function retryAfterOf(result: {
  readonly data?: unknown;
  readonly errors?: readonly GraphQLFormattedError[];
}): number | undefined {
  const errors = result.errors ?? [];
  if (result.data != null || errors.length === 0) return undefined;
  const waits = errors.map((e) =>
    e.extensions?.['code'] === ErrorCode.RateLimited ? e.extensions['retryAfterSeconds'] : undefined,
  );
  if (!waits.every((w): w is number => typeof w === 'number' && Number.isFinite(w))) return undefined;
  return Math.max(1, Math.ceil(Math.max(...waits)));
}

/** A refusal the HTTP layer makes before any GraphQL runs: status, headers and a GraphQL-over-HTTP body. */
export interface HttpRefusal {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: { readonly errors: readonly GraphQLFormattedError[] };
}

/** One error as a GraphQL-over-HTTP body: the shape of every refusal, whoever makes it. */
export function httpRefusal(
  status: number,
  code: ClientCode,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): HttpRefusal {
  return { status, headers, body: { errors: [{ message, extensions: { code } }] } };
}

const JSON_BODY_ONLY = 'A GraphQL POST takes a JSON body (Content-Type: application/json).';

/**
 * What the HTTP layer's own errors (Fastify's `FST_ERR_*`, Node's HTTP parser's) become, by their code: a
 * size over a limit is GRAPHQL_VALIDATION_FAILED (the contract's "size limits"), any other malformed request
 * BAD_USER_INPUT, each with its HTTP status. The framework's own message and code never reach the client.
 */
const FRAMEWORK_REFUSALS: Readonly<Record<string, readonly [number, ErrorCode, string]>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [
    413,
    ErrorCode.GraphQLValidationFailed,
    'The request body is over the size limit.',
  ],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, ErrorCode.BadUserInput, JSON_BODY_ONLY],
  FST_ERR_CTP_EMPTY_TYPE: [415, ErrorCode.BadUserInput, JSON_BODY_ONLY],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, ErrorCode.BadUserInput, 'The request body is not valid JSON.'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, ErrorCode.BadUserInput, 'The request body is empty.'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [
    400,
    ErrorCode.BadUserInput,
    'The request body does not match its Content-Length.',
  ],
  FST_ERR_BAD_URL: [400, ErrorCode.BadUserInput, 'The request URL is malformed.'],
  FST_ERR_MAX_PARAM_LENGTH: [
    414,
    ErrorCode.GraphQLValidationFailed,
    'The request URL is over the size limit.',
  ],
  HPE_HEADER_OVERFLOW: [
    431,
    ErrorCode.GraphQLValidationFailed,
    'The request URL or headers are over the size limit.',
  ],
  ERR_HTTP_REQUEST_TIMEOUT: [408, ErrorCode.BadUserInput, 'The request did not arrive in time.'],
};

/**
 * The refusal for an error the HTTP layer raised: a known code by the table above; any other 4xx status as
 * BAD_USER_INPUT (GRAPHQL_VALIDATION_FAILED for a size: 413, 414, 431); anything else, a bug, as a masked 500.
 */
export function frameworkRefusal(error: {
  readonly code?: unknown;
  readonly statusCode?: unknown;
}): HttpRefusal {
  const known =
    typeof error.code === 'string' && Object.hasOwn(FRAMEWORK_REFUSALS, error.code)
      ? FRAMEWORK_REFUSALS[error.code]
      : undefined;
  if (known) return httpRefusal(...known);
  const status = error.statusCode;
  if (typeof status === 'number' && Number.isInteger(status) && status >= 400 && status < 500) {
    const size = status === 413 || status === 414 || status === 431;
    return size
      ? httpRefusal(status, ErrorCode.GraphQLValidationFailed, 'The request is over a size limit.')
      : httpRefusal(status, ErrorCode.BadUserInput, `The request was refused (HTTP ${status}).`);
  }
  return httpRefusal(500, ErrorCode.InternalServerError, 'Internal server error');
}

/** The error and the errors it wraps (`originalError`), outermost first. */
function causes(error: unknown): unknown[] {
  const chain = [error];
  let current = error;
  while (isGraphQLError(current) && current.originalError && chain.length < 10) {
    current = current.originalError;
    chain.push(current);
  }
  return chain;
}

/**
 * By shape, not `instanceof`: Apollo may load graphql's CommonJS build while this module loads its ES build,
 * the two have distinct GraphQLError classes, and Apollo's subclasses rename themselves.
 */
function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof Error && 'extensions' in error && 'locations' in error && 'path' in error;
}
