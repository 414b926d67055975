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

/** Codes Apollo gives errors in the request itself; they carry no upstream detail and may pass through. */
const REQUEST_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
]);

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
 * extensions; GraphQL's own request errors (parse, validation, variable coercion) pass through with their
 * code only; everything else — a bug, a serialization error over an unexpected upstream value — is masked,
 * so no stack, upstream URL, upstream message or token ever reaches a client.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const { message, locations, path } = formatted;
  const base = { message, ...(locations && { locations }), ...(path && { path }) };
  const chain = causes(error);
  const known = chain.find((e): e is GatewayError => e instanceof GatewayError);
  if (known)
    return { ...base, message: known.message, extensions: { ...known.extensions, code: known.code } };
  const code = formatted.extensions?.['code'];
  if (typeof code === 'string' && REQUEST_CODES.has(code) && chain.every(isGraphQLError)) {
    return { ...base, extensions: { code } };
  }
  return { ...base, message: 'Internal server error', extensions: { code: ErrorCode.InternalServerError } };
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
