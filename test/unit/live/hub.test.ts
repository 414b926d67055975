import { describe, expect, it } from 'vitest';
import type { AlertDto } from '../../../src/defender/types.js';
import { LiveAlerts } from '../../../src/live/hub.js';
import type { AlertChangeEvent } from '../../../src/live/watermark.js';

/** The fan-out: one source per upstream identity, alive from its first subscriber to its last. */

function hub(maxSubscriptions?: number) {
  const started: string[] = [];
  const stopped: string[] = [];
  const deliver = new Map<string, (changes: readonly AlertChangeEvent[]) => void>();
  const live = new LiveAlerts({
    startSource: (identity, _tokens, push) => {
      started.push(identity);
      deliver.set(identity, push);
      return { stop: async () => void stopped.push(identity) };
    },
    ...(maxSubscriptions !== undefined && { maxSubscriptions }),
  });
  return { live, started, stopped, deliver };
}

const change = (id: string, severity: string): AlertChangeEvent => ({
  kind: 'CREATED',
  alert: { id, severity } as AlertDto,
});
const high = (a: AlertDto) => a.severity === 'High';
const all = () => true;

describe('LiveAlerts', () => {
  it('starts one source per identity (one per caller on-behalf-of), and stops it when its last subscriber leaves', async () => {
    const { live, started, stopped } = hub();
    const a1 = live.subscribe({ identity: 'app', matches: all });
    const a2 = live.subscribe({ identity: 'app', matches: high });
    const b = live.subscribe({ identity: 'obo:alice', matches: all });
    expect(started).toEqual(['app', 'obo:alice']);

    await a1.return();
    expect(stopped).toEqual([]);
    await a2.return();
    await b.return();
    expect(stopped).toEqual(['app', 'obo:alice']);
    expect(live.subscriptions).toBe(0);
  });

  it("delivers each change, in order, to the identity's subscribers whose filter passes it, and to no other", async () => {
    const { live, deliver } = hub();
    const everything = live.subscribe({ identity: 'app', matches: all });
    const onlyHigh = live.subscribe({ identity: 'app', matches: high });
    const otherCaller = live.subscribe({ identity: 'obo:alice', matches: all });

    deliver.get('app')!([change('1', 'Low'), change('2', 'High')]);

    expect((await everything.next()).value?.alertChanges.alert.id).toBe('1');
    expect((await everything.next()).value?.alertChanges.alert.id).toBe('2');
    expect((await onlyHigh.next()).value?.alertChanges.alert.id).toBe('2');
    await otherCaller.return();
    expect(await otherCaller.next()).toEqual({ value: undefined, done: true });
  });

  it('refuses a subscriber past its cap with RATE_LIMITED, and every one once closed; close ends every stream', async () => {
    const { live, stopped } = hub(1);
    const first = live.subscribe({ identity: 'app', matches: all });
    expect(() => live.subscribe({ identity: 'app', matches: all })).toThrow(
      expect.objectContaining({ code: 'RATE_LIMITED' }) as Error,
    );
    const pending = first.next();
    await live.close();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(stopped).toEqual(['app']);
    expect(() => live.subscribe({ identity: 'app', matches: all })).toThrow(
      expect.objectContaining({ code: 'RATE_LIMITED' }) as Error,
    );
  });
});
