import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { formatError, frameworkRefusal, retryAfterOf } from '../../src/errors.js';

/**
 * The error choke point's rules, for what no HTTP request can reach on purpose: an unexpected error in the
 * HTTP layer, Apollo's request errors without a code, and the 429 rule's edges.
 */
describe('frameworkRefusal', () => {
  it('masks an unexpected error as a 500 with no message, code or stack of its own', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED https://api.example/secret-token'), {
      code: 'ECONNREFUSED',
    });
    const refusal = frameworkRefusal(error);
    expect(refusal).toEqual({
      status: 500,
      headers: {},
      body: { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] },
    });
  });

  it("keeps any other 4xx status, without the framework's message", () => {
    const error = Object.assign(new Error('internals'), { statusCode: 418, code: 'FST_ERR_SOMETHING_NEW' });
    const refusal = frameworkRefusal(error);
    expect(refusal.status).toBe(418);
    expect(refusal.body.errors[0]!.extensions).toEqual({ code: 'BAD_USER_INPUT' });
    expect(JSON.stringify(refusal)).not.toMatch(/FST_ERR|internals/);
    expect(frameworkRefusal({ code: '__proto__', statusCode: 413 }).body.errors[0]!.extensions).toEqual({
      code: 'GRAPHQL_VALIDATION_FAILED',
    });
  });
});

describe('formatError', () => {
  const format = (error: GraphQLError) => formatError({ message: error.message, extensions: {} }, error);

  it("brings Apollo's request codes to the contract's", () => {
    const codeOf = (code: string) =>
      format(new GraphQLError('m', { extensions: { code } })).extensions?.['code'];
    expect(codeOf('GRAPHQL_PARSE_FAILED')).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(codeOf('BAD_REQUEST')).toBe('BAD_USER_INPUT');
    expect(codeOf('OPERATION_RESOLUTION_FAILURE')).toBe('BAD_USER_INPUT');
    expect(codeOf('PERSISTED_QUERY_NOT_FOUND')).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(codeOf('SOMETHING_ELSE')).toBe('INTERNAL_SERVER_ERROR');
  });

  it('makes a codeless request error with a 4xx HTTP status BAD_USER_INPUT, and masks one without', () => {
    const refused = new GraphQLError('provided sha does not match query', {
      extensions: { http: { status: 400 } },
    });
    expect(format(refused)).toEqual({
      message: 'provided sha does not match query',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    const bug = new GraphQLError('Cannot read properties of undefined', {
      extensions: { http: { status: 500 } },
    });
    expect(format(bug)).toEqual({
      message: 'Internal server error',
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
  });
});

describe('retryAfterOf', () => {
  const limited = (retryAfterSeconds: unknown) => ({
    message: 'm',
    extensions: { code: 'RATE_LIMITED', retryAfterSeconds },
  });

  it('is the largest wait, rounded up, at least 1 s, when every error of a dataless response is RATE_LIMITED', () => {
    expect(retryAfterOf({ errors: [limited(2.1), limited(7.5)] })).toBe(8);
    expect(retryAfterOf({ data: null, errors: [limited(0)] })).toBe(1);
  });

  it('is undefined with data, with another error, or without a wait', () => {
    expect(retryAfterOf({ data: { machine: null }, errors: [limited(3)] })).toBeUndefined();
    expect(
      retryAfterOf({ errors: [limited(3), { message: 'm', extensions: { code: 'QUERY_TOO_EXPENSIVE' } }] }),
    ).toBeUndefined();
    expect(retryAfterOf({ errors: [limited(undefined)] })).toBeUndefined();
    expect(retryAfterOf({ errors: [] })).toBeUndefined();
  });
});
