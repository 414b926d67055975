import type { EdgeCounts, FanoutStore } from './fanout.js';
import { emptyCounts } from './fanout.js';
import type { RedisConnection } from '../cache/redis.js';
import { withTimeout } from '../cache/redis.js';

export interface RedisFanoutOptions {
  /** Prefix of every key, so several deployments or test runs can share one Redis. Default `defender-graph:fanout:`. */
  readonly prefix?: string;
  /** Bound on each exchange with Redis (ms); past it the exchange counts as failed. Default 500. */
  readonly timeoutMs?: number;
  /** How long an edge's counters live after their last update (s): a tenant that changes is learnt again. Default 30 days. */
  readonly ttlSeconds?: number;
}

/**
 * Fan-out counters shared by every replica: one Redis hash per edge, each counter a field that replicas add
 * to with HINCRBY, in one MULTI per batch of deltas (all or none of them counted).
 */
export function redisFanoutStore(client: RedisConnection, options: RedisFanoutOptions = {}): FanoutStore {
  const prefix = options.prefix ?? 'defender-graph:fanout:';
  const timeoutMs = options.timeoutMs ?? 500;
  const ttl = options.ttlSeconds ?? 30 * 24 * 3600;
  return {
    async add(deltas) {
      const multi = client.multi();
      for (const [edge, counts] of deltas) {
        const key = prefix + edge;
        for (const [field, value] of fieldsOf(counts)) if (value !== 0) multi.hIncrBy(key, field, value);
        multi.expire(key, ttl);
      }
      await withTimeout(multi.exec(), timeoutMs);
    },
    async read(edges) {
      const multi = client.multi();
      for (const edge of edges) multi.hGetAll(prefix + edge);
      const replies = (await withTimeout(multi.exec(), timeoutMs)) as unknown as Record<string, string>[];
      const totals = new Map<string, EdgeCounts>();
      edges.forEach((edge, i) => {
        const hash = replies[i];
        if (hash && Object.keys(hash).length > 0) totals.set(edge, countsOf(hash));
      });
      return totals;
    },
  };
}

/** The hash fields of an edge's counters. */
function fieldsOf(counts: EdgeCounts): [string, number][] {
  return [
    ['parents', counts.parents],
    ['sum', counts.sum],
    ['children', counts.children],
    ['distinct', counts.distinct],
    ...counts.buckets.map((n, i): [string, number] => [`b${i}`, n]),
    ...counts.bucketSums.map((n, i): [string, number] => [`s${i}`, n]),
  ];
}

function countsOf(hash: Record<string, string>): EdgeCounts {
  const read = (field: string) => Number(hash[field] ?? 0) || 0;
  const counts = emptyCounts();
  counts.parents = read('parents');
  counts.sum = read('sum');
  counts.children = read('children');
  counts.distinct = read('distinct');
  for (let i = 0; i < counts.buckets.length; i++) {
    counts.buckets[i] = read(`b${i}`);
    counts.bucketSums[i] = read(`s${i}`);
  }
  return counts;
}
