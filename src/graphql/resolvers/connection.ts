import type { ConnectionParent } from '../parents.js';
import { badUserInput } from '../../errors.js';

/**
 * Cursors are opaque to clients but simply encode a position in Defender's list (`$skip`), because Defender
 * pages by offset. A page is fetched with one extra item to learn whether another page follows.
 */
export function encodeCursor(offset: number): string {
  return Buffer.from(`offset:${offset}`).toString('base64url');
}

export function decodeCursor(cursor: string | null | undefined): number {
  if (cursor == null) return 0;
  const match = /^offset:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw badUserInput('`after` is not a cursor this API returned.');
  return Number(match[1]);
}

export function checkFirst(first: number, max: number): number {
  if (!Number.isInteger(first) || first < 0 || first > max) {
    throw badUserInput(`\`first\` must be between 0 and ${max}, got ${first}.`);
  }
  return first;
}

/**
 * Which slice of Defender's list a page asks for: `top` items (checked against the cap) from `offset`. The
 * request takes one more, to learn whether another page follows.
 */
export function pageWindow(
  first: number,
  after: string | null | undefined,
  maxPageSize: number,
): { top: number; offset: number } {
  return { top: checkFirst(first, maxPageSize), offset: decodeCursor(after) };
}

/** Shared resolvers of MachineConnection and AlertConnection. */
export const connectionResolvers = {
  nodes: <T>(parent: ConnectionParent<T>) => parent.nodes,
  edges: <T>(parent: ConnectionParent<T>) =>
    parent.nodes.map((node, i) => ({ cursor: encodeCursor(parent.offset + i + 1), node })),
  pageInfo: <T>(parent: ConnectionParent<T>) => ({
    hasNextPage: parent.hasNextPage,
    endCursor: parent.nodes.length > 0 ? encodeCursor(parent.offset + parent.nodes.length) : null,
  }),
};
