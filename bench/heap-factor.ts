import { parse } from 'graphql';
import type { DocumentNode } from 'graphql';
import { DEFAULT_SIMULATOR_TOKEN } from '../src/simulator/config.js';
import { startSimulator } from '../src/simulator/server.js';

/**
 * `node --expose-gc --import tsx bench/heap-factor.ts`: the heap bytes behind the size estimates of
 * src/cache/budget.ts. Heap per character of JSON for parsed simulator pages, and heap per token for parsed
 * documents: heapUsed after a full GC, before and after keeping many copies.
 */

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('bench: run with node --expose-gc');

/** Heap bytes per value that `make` returns, kept `count` times. */
function heapPer(make: () => unknown, count: number): number {
  gc!();
  gc!();
  const before = process.memoryUsage().heapUsed;
  const kept = Array.from({ length: count }, make);
  gc!();
  gc!();
  const after = process.memoryUsage().heapUsed;
  if (kept.length !== count) throw new Error('unreachable');
  return (after - before) / count;
}

function tokens(document: DocumentNode): number {
  let n = 0;
  for (let token = document.loc?.startToken ?? null; token; token = token.next) n++;
  return n;
}

const sim = await startSimulator({ latencyMs: 0 });
try {
  for (const path of ['/api/alerts?$top=500', '/api/machines?$top=500', '/api/alerts?$top=50']) {
    const res = await fetch(`${sim.url}${path}`, {
      headers: { authorization: `Bearer ${DEFAULT_SIMULATOR_TOKEN}` },
    });
    const text = await res.text();
    const heap = heapPer(() => JSON.parse(text), 20);
    console.log(
      `${path}: ${text.length} characters, ${heap.toFixed(0)} heap bytes, ${(heap / text.length).toFixed(2)} per character`,
    );
  }
} finally {
  await sim.close();
}

const fields = 'id title severity status category detectionSource createdAt';
const documents = {
  '15 aliased pages': `{ ${Array.from({ length: 15 }, (_, i) => `a${i}: alerts(first: 500) { nodes { ${fields} } }`).join('\n')} }`,
  '480 flat fields': `{ ${Array.from({ length: 480 }, (_, i) => `a${i % 10}`).join(' ')} }`,
  'nested arguments': `{ ${Array.from({ length: 40 }, () => 'alerts(first: 500, filter: {status: NEW}) { nodes { id } }').join(' ')} }`,
  'long comment': `# ${'x'.repeat(3000)}\n{ alerts { nodes { id } } }`,
};
let variant = 0;
for (const [name, body] of Object.entries(documents)) {
  const make = () => `# ${variant++}\nquery Q ${body}`;
  const sample = parse(make());
  const heap = heapPer(() => parse(make()), 300);
  const text = heapPer(make, 300);
  console.log(
    `${name}: ${tokens(sample)} tokens, ${heap.toFixed(0)} heap bytes, ${((heap - text) / tokens(sample)).toFixed(0)} per token, JSON ${JSON.stringify(sample).length} characters`,
  );
}
