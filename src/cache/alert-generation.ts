import { randomUUID } from 'node:crypto';
import type { RedisConnection } from './redis.js';
import { withTimeout } from './redis.js';

/**
 * The generation of every stored answer that shows alerts (alert lists, a machine's or a user's alerts, an
 * alert by id, and the whole results built on them): it is part of their cache keys, and a write moves it on,
 * so that every reader, on every replica, misses what was stored before the write and asks Defender again.
 * An operation reads the generation once, at its first cached read, and keeps it: a read that started before a
 * write stores under the old generation, where nobody looks any more; one that starts after the write resolved
 * never finds an answer older than it.
 */
export interface AlertGenerations {
  /** The generation now. Never fails: when it cannot be known, one nobody has stored under (a miss). */
  current(): Promise<string>;
  /** An alert changed: resolves to the new generation once every later `current()` anywhere answers it. */
  advance(): Promise<string>;
}

/** In this process (no `CACHE_URL`): the caches it moves on are this process's too. */
export function memoryGenerations(): AlertGenerations {
  let generation = 0;
  return {
    current: async () => String(generation),
    advance: async () => String(++generation),
  };
}

export interface RedisGenerationsOptions {
  /** The key of the counter. Default `defender-graph:alerts-generation`. */
  readonly key?: string;
  /** Bound on each command (ms); past it the command counts as failed. Default 100. */
  readonly timeoutMs?: number;
}

/**
 * Shared by the replicas through Redis (`CACHE_URL`): one counter, `INCR`ed by a write and read (`GET`) once per
 * operation. When Redis does not answer, a read gets a generation of its own (its cached reads miss, as the
 * Redis cache's do then); a write that cannot reach Redis still moves this replica's own part of the
 * generation on, so at least its in-process results are dropped.
 */
export function redisGenerations(
  redis: RedisConnection,
  options: RedisGenerationsOptions = {},
): AlertGenerations {
  const key = options.key ?? 'defender-graph:alerts-generation';
  const timeoutMs = options.timeoutMs ?? 100;
  let local = 0;
  const command = (args: string[]) => withTimeout(redis.sendCommand(args), timeoutMs);
  return {
    async current() {
      try {
        return `${String((await command(['GET', key])) ?? 0)}.${local}`;
      } catch {
        return `unknown:${randomUUID()}`;
      }
    },
    async advance() {
      try {
        return `${String(await command(['INCR', key]))}.${local}`;
      } catch {
        local++;
        return `unknown:${randomUUID()}`;
      }
    },
  };
}
