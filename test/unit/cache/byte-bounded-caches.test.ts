import { parse } from 'graphql';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  HEAP_BYTES_PER_JSON_CHAR,
  createByteCache,
  documentBytes,
  entryBytes,
  jsonLength,
  splitCacheBudget,
} from '../../../src/cache/budget.js';
import type { StoredAnswer } from '../../../src/cache/entity-cache.js';
import { createMemoryCache } from '../../../src/cache/entity-cache.js';
import { documentStore } from '../../../src/cache/apollo-caches.js';
import { ResponseCache } from '../../../src/cache/response-cache.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** An upstream answer whose body is about `chars` characters of JSON. */
function answer(chars: number, storedAt = Date.now()): StoredAnswer {
  return { status: 200, body: { value: [{ id: 'x'.repeat(chars) }] }, storedAt };
}

/** A result of about `chars` characters of JSON, valid for `ms`. */
function result(chars: number, ms = 60_000) {
  return {
    data: { alerts: { nodes: [{ id: 'x'.repeat(chars) }] } },
    validUntil: Date.now() + ms,
    answers: 1,
  };
}

describe('the budget', () => {
  it('splits CACHE_MAX_MB between the in-process caches, entities first, and gives their share away with Redis', () => {
    expect(splitCacheBudget(100)).toEqual({
      entities: 50 * MiB,
      responses: 30 * MiB,
      documents: 10 * MiB,
      persistedQueries: 5 * MiB,
      compiled: 5 * MiB,
    });
    expect(splitCacheBudget(100, { entitiesInProcess: false })).toEqual({
      entities: 0,
      responses: 60 * MiB,
      documents: 20 * MiB,
      persistedQueries: 10 * MiB,
      compiled: 10 * MiB,
    });
  });

  it('counts JSON length without building the text, and stops once past its limit', () => {
    const value = { a: [1, 'xy', null, true], b: { c: 'z' } };
    // The exact JSON text is 40 characters; numbers count 8 each, keys and strings as written.
    expect(jsonLength(value)).toBeGreaterThanOrEqual(JSON.stringify(value).length);
    expect(jsonLength(value)).toBeLessThan(JSON.stringify(value).length * 1.5);
    const wide = { nodes: Array.from({ length: 100_000 }, (_, i) => ({ id: `alert-${i}` })) };
    expect(jsonLength(wide, 1_000)).toBeGreaterThan(1_000);
    expect(jsonLength(wide, 1_000)).toBeLessThan(2_000);
    expect(entryBytes('k', wide)).toBeGreaterThan(JSON.stringify(wide).length * HEAP_BYTES_PER_JSON_CHAR);
  });

  it('sizes a parsed document by its tokens, not by its JSON length', () => {
    const fields = 'id title severity status category';
    const query = `{ ${Array.from({ length: 15 }, (_, i) => `a${i}: alerts(first: 500) { nodes { ${fields} } }`).join(' ')} }`;
    const document = parse(query);
    // Measured: 107 kB of heap for such a document, 27 kB of JSON (cache/budget.ts).
    expect(documentBytes(document)).toBeGreaterThan(4 * JSON.stringify(document).length);
  });
});

describe('a byte-bounded cache', () => {
  it('evicts by bytes, least recently used first', () => {
    const cache = createByteCache<{ size: number }>({ maxBytes: 100, sizeOf: (v) => v.size });
    cache.set('a', { size: 40 });
    cache.set('b', { size: 40 });
    cache.get('a');
    cache.set('c', { size: 40 });
    expect([...cache.keys()].sort()).toEqual(['a', 'c']);
    expect(cache.calculatedSize).toBe(80);
  });

  it('keeps no entry larger than its cap, and drops an older value stored under the same key', () => {
    const cache = createByteCache<{ size: number }>({
      maxBytes: 100,
      maxEntryBytes: 50,
      sizeOf: (v) => v.size,
    });
    cache.set('a', { size: 10 });
    cache.set('a', { size: 60 });
    expect(cache.has('a')).toBe(false);
    expect(cache.calculatedSize).toBe(0);
  });
});

describe('the entity cache in memory', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds at most its bytes, evicting the least recently read answer first', async () => {
    const cache = createMemoryCache({ maxBytes: 100 * KiB });
    for (const key of ['a', 'b', 'c']) await cache.set(key, answer(20 * KiB), 60_000);
    expect(await cache.get('a')).toBeDefined();
    await cache.set('d', answer(20 * KiB), 60_000);
    // 20k characters are ~30 KiB each: three fit in 100 KiB, the fourth pushes out 'b', read least recently.
    expect(await cache.get('b')).toBeUndefined();
    for (const key of ['a', 'c', 'd']) expect(await cache.get(key)).toBeDefined();
    expect(cache.bytes).toBeLessThanOrEqual(100 * KiB);
    expect(cache.bytes).toBeGreaterThan(3 * 20 * KiB * HEAP_BYTES_PER_JSON_CHAR);
  });

  it('sweeps expired answers without waiting for a read', async () => {
    const cache = createMemoryCache({ maxBytes: MiB, sweepEveryMs: 1_000 });
    await cache.set('short', answer(1 * KiB), 5_000);
    await cache.set('long', answer(1 * KiB), 60_000);
    const both = cache.bytes!;
    vi.advanceTimersByTime(6_000);
    expect(cache.bytes).toBeLessThan(both);
    expect(cache.bytes).toBeGreaterThan(0);
    vi.advanceTimersByTime(60_000);
    expect(cache.bytes).toBe(0);
  });
});

describe('the response cache', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('does not keep a result larger than an eighth of its bytes', () => {
    const cache = new ResponseCache({ maxBytes: 800 * KiB });
    cache.set('small', result(10 * KiB));
    cache.set('wide', result(100 * KiB));
    expect(cache.get('small')).toBeDefined();
    expect(cache.get('wide')).toBeUndefined();
  });

  it('holds at most its bytes, least recently used out first', () => {
    const cache = new ResponseCache({ maxBytes: 800 * KiB });
    for (let i = 0; i < 40; i++) {
      cache.set(`r${i}`, result(50 * KiB));
      cache.get('r0');
    }
    expect(cache.bytes).toBeLessThanOrEqual(800 * KiB);
    expect(cache.get('r0')).toBeDefined();
    expect(cache.get('r1')).toBeUndefined();
    expect(cache.get('r39')).toBeDefined();
  });

  it('sweeps results once their answers expire', () => {
    const cache = new ResponseCache({ maxBytes: MiB, sweepEveryMs: 1_000 });
    cache.set('r', result(KiB, 2_000));
    expect(cache.bytes).toBeGreaterThan(KiB);
    vi.advanceTimersByTime(4_000);
    expect(cache.bytes).toBe(0);
  });
});

describe("Apollo's document store", () => {
  it('holds at most its bytes of parsed documents, however many distinct ones arrive', async () => {
    const store = documentStore(MiB);
    for (let i = 0; i < 200; i++) {
      const query = `# variant ${i}\n{ ${Array.from({ length: 15 }, (_, a) => `a${a}: alerts(first: 500) { nodes { id title } }`).join(' ')} }`;
      await store.set(`hash-${i}`, parse(query));
    }
    expect(store.bytes).toBeLessThanOrEqual(MiB);
    expect(await store.get('hash-199')).toBeDefined();
    expect(await store.get('hash-0')).toBeUndefined();
  });
});
