import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { isDateTime } from '../../defender/date-time.js';
import { preview } from '../../defender/ids.js';
import { badUserInput } from '../../errors.js';

/**
 * A literal or a variable: either way a date that does not exist is refused here, before any call. A gateway
 * error, so that the same input gets the same code and message both ways: graphql-js would report a
 * `GraphQLError` from a literal as a validation failure.
 */
function parse(value: unknown): string {
  if (typeof value === 'string' && isDateTime(value)) return value;
  const shown = typeof value === 'string' ? `"${preview(value)}"` : 'A non-string';
  throw badUserInput(
    `${shown} is not a DateTime: a real ISO-8601 date-time with seconds, such as 2026-11-01T00:00:00Z.`,
  );
}

/**
 * ISO-8601 date-times, passed through as Defender wrote them (up to 7 fractional digits), never re-formatted
 * through `Date`, which would drop the sub-millisecond digits.
 */
export const DateTime = new GraphQLScalarType<string, string>({
  name: 'DateTime',
  description: 'An ISO-8601 date-time in UTC, e.g. `2026-10-31T08:15:02.1234567Z`.',
  serialize: (value) => {
    if (typeof value === 'string') return value;
    if (value instanceof Date) return value.toISOString();
    throw new GraphQLError('DateTime cannot represent this value.');
  },
  parseValue: parse,
  parseLiteral: (ast) => parse(ast.kind === Kind.STRING ? ast.value : undefined),
});
