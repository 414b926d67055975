import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,7})?(?:Z|[+-]\d{2}:\d{2})$/;

function parse(value: unknown): string {
  if (typeof value === 'string' && ISO_DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)))
    return value;
  throw new GraphQLError('DateTime must be an ISO-8601 date-time such as 2026-11-01T00:00:00Z.', {
    extensions: { code: 'BAD_USER_INPUT' },
  });
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
