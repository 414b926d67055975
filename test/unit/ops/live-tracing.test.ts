import type { TraceFlags } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { eventLinks } from '../../../src/ops/live-tracing.js';

const POLL = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 };
const START = { traceId: 'a3ce929d0e0e47364bf92f3577b34da6', spanId: 'b7ad6b7169203331', traceFlags: 1 };

describe('the links of an event’s execution (ops/live-tracing.ts)', () => {
  it('links the change’s origin, then the subscription’s start, each by its ids alone', () => {
    // As a change published by another replica arrives: JSON, with whatever else a span context carried.
    const fromRedis = JSON.parse(JSON.stringify({ ...POLL, isRemote: false, traceState: {} })) as typeof POLL;
    expect(eventLinks(fromRedis, START)).toEqual([
      { context: POLL, attributes: { 'defender_graph.link': 'change' } },
      { context: START, attributes: { 'defender_graph.link': 'subscription' } },
    ]);
    expect(eventLinks(undefined, START)).toEqual([
      { context: START, attributes: { 'defender_graph.link': 'subscription' } },
    ]);
    expect(eventLinks(undefined, undefined)).toEqual([]);
  });

  it('drops an origin that is not a valid span context (a malformed message from Redis)', () => {
    const malformed = [
      { ...POLL, traceId: '0'.repeat(32) },
      { ...POLL, spanId: 'not-a-span-id!!!' },
      { ...POLL, traceFlags: '1' as unknown as TraceFlags },
      { traceId: POLL.traceId } as typeof POLL,
    ];
    for (const origin of malformed) expect(eventLinks(origin, undefined), JSON.stringify(origin)).toEqual([]);
  });
});
