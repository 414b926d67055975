import type { GraphQLRequest } from '@apollo/server';

/** The request header that asks for the estimate alone (docs/clients.md). */
export const DRY_RUN_HEADER = 'x-dry-run';

/**
 * Whether a request asks for a dry run (`x-dry-run: true`): parsed, validated and planned, never executed, no
 * upstream call, and never served from or stored in the response cache.
 */
export function isDryRun(request: GraphQLRequest): boolean {
  return request.http?.headers.get(DRY_RUN_HEADER)?.trim().toLowerCase() === 'true';
}
