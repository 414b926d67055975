import type { UserDto } from '../defender/types.js';

/**
 * What a `User` resolver receives: a full Defender user record, or a User known only by its name (from
 * `Query.user`, or from an alert's `relatedUser`), whose domain may be unknown.
 */
export type UserParent = UserDto | { id: string; accountName: string; accountDomain: string | null };

/**
 * What a connection resolver receives: one page of Defender entities, where the page starts in Defender's list
 * (`offset`, which cursors encode) and whether Defender has more after it.
 */
export interface ConnectionParent<T> {
  nodes: T[];
  offset: number;
  hasNextPage: boolean;
}
