import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitCacheBudget } from '../../src/cache/budget.js';
import type { Child } from '../helpers/process.js';
import { freePort, startProgram } from '../helpers/process.js';

const MiB = 1024 * 1024;
/** What Kubernetes' 512 MiB limit leaves Node's old generation. */
const HEAP_MB = 256;
const CACHE_MAX_MB = 32;
/**
 * RSS above the process at rest that is not the caches': eight operations in flight, each up to 15 pages of
 * 500 alerts (21 MB of answer text, its result objects and its socket buffers), and the garbage collector's
 * slack. Measured 175–198 MiB above rest (216 MiB) with this load on a busy 2-core machine; the gateway before
 * byte budgets died of heap exhaustion under it (SIGABRT after 92 answers, 479–494 MiB peak), and without the
 * heap cap grew to gigabytes.
 */
const WORKING_SET_MIB = 240;
const LOAD_MS = 25_000;
const HEAVY_WORKERS = 6;
const LIGHT_WORKERS = 2;

const FIELDS =
  'id title description severity status category detectionSource threatName alertCreationTime lastUpdateTime machineId computerDnsName mitreTechniques assignedTo';
const aliased = (k: number, name: string, selection: string) =>
  `# variant ${k}\nquery ${name} {\n${Array.from({ length: 15 }, (_, i) => `a${i}: alerts(first: 500) { nodes { ${selection} } }`).join('\n')}\n}`;
/** The attacker's document: 1.7 kB, 15 aliases of the widest page, 21 MB of answer from one upstream call. */
const wide = (k: number) => aliased(k, 'Wide', FIELDS);
const narrow = (k: number) => aliased(k, 'Narrow', 'id title');
const PAGE = `query Page { alerts(first: 500) { nodes { ${FIELDS} } } }`;
const small = (k: number) =>
  `# variant ${k}\nquery Small { a${k % 15}: alerts(first: 3) { nodes { id title } } }`;

/** The process's resident set (bytes), from /proc; 0 once it is gone. */
function rssOf(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

describe(`the gateway under distinct wide documents (${HEAP_MB} MB heap, CACHE_MAX_MB=${CACHE_MAX_MB})`, () => {
  let child: Child;
  let url: string;
  let restRss = 0;
  let peakRss = 0;
  const outcomes = { sent: 0, withData: 0, other: [] as string[] };
  let exitedDuringLoad: string | undefined;
  let cacheBytes: Record<string, number> = {};

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    child = await startProgram(
      'src/index.ts',
      {
        PORT: String(port),
        NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}`,
        CACHE_MAX_MB: String(CACHE_MAX_MB),
        SIMULATOR_LATENCY_MS: '0',
      },
      /GraphQL on/,
      30_000,
    );
    const pid = child.process.pid!;
    child.process.once('exit', (code, signal) => (exitedDuringLoad = `code ${code}, signal ${signal}`));
    restRss = rssOf(pid);
    peakRss = restRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssOf(pid))), 100);

    const stopAt = Date.now() + LOAD_MS;
    let k = 0;
    const send = async (query: string) => {
      outcomes.sent++;
      try {
        const res = await fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query }),
        });
        // Not parsed: 21 MB of JSON per answer would load the test process more than the gateway.
        const text = await res.text();
        if (res.status === 200 && text.startsWith('{"data":{"a') && !text.includes('"errors":')) {
          outcomes.withData++;
        } else outcomes.other.push(`${res.status} ${text.slice(0, 200)}`);
      } catch (error) {
        outcomes.other.push(`fetch failed: ${(error as Error).message}`);
      }
    };
    const heavy = async () => {
      while (Date.now() < stopAt && !exitedDuringLoad) {
        const n = k++;
        await send(n % 3 === 0 ? wide(n) : n % 3 === 1 ? PAGE : narrow(n));
      }
    };
    const light = async () => {
      while (Date.now() < stopAt && !exitedDuringLoad) await send(small(k++));
    };
    await Promise.all([
      ...Array.from({ length: HEAVY_WORKERS }, heavy),
      ...Array.from({ length: LIGHT_WORKERS }, light),
    ]);
    clearInterval(sampler);
    if (!exitedDuringLoad) {
      const metrics = await (await fetch(`${url}/metrics`)).text();
      cacheBytes = Object.fromEntries(
        [...metrics.matchAll(/^gateway_cache_bytes\{cache="(\w+)"\} (\S+)$/gm)].map((m) => [
          m[1]!,
          Number(m[2]),
        ]),
      );
    }
  }, LOAD_MS + 35_000);

  afterAll(async () => {
    await child?.stop();
  });

  it('never dies, and answers every operation with data', () => {
    expect(exitedDuringLoad).toBeUndefined();
    expect(outcomes.other).toEqual([]);
    // Enough distinct documents and wide answers to overfill the response and document caches several times.
    expect(outcomes.withData).toBeGreaterThanOrEqual(100);
  });

  it(`keeps its RSS under its RSS at rest + CACHE_MAX_MB + ${WORKING_SET_MIB} MiB`, () => {
    expect(restRss).toBeGreaterThan(0);
    const bound = restRss + (CACHE_MAX_MB + WORKING_SET_MIB) * MiB;
    expect(
      peakRss,
      `peak ${(peakRss / MiB).toFixed(0)} MiB, rest ${(restRss / MiB).toFixed(0)} MiB`,
    ).toBeLessThan(bound);
  });

  it('holds each cache within its share of CACHE_MAX_MB, the response and document caches full', () => {
    const budget = splitCacheBudget(CACHE_MAX_MB);
    for (const cache of ['entities', 'responses', 'documents', 'persistedQueries'] as const) {
      expect(cacheBytes[cache], cache).toBeLessThanOrEqual(budget[cache]);
    }
    // The load overfilled them: they evicted, rather than stayed small because nothing was kept.
    expect(cacheBytes['responses']).toBeGreaterThan(budget.responses / 2);
    expect(cacheBytes['documents']).toBeGreaterThan(budget.documents / 2);
  });
});
