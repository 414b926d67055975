import { describe, expect, it } from 'vitest';
import type { TokenProvider } from '../../../src/auth/tokens.js';
import type { AlertDto } from '../../../src/defender/types.js';
import { LiveAlerts } from '../../../src/live/hub.js';
import type { AlertChangeEvent } from '../../../src/live/watermark.js';

/** The fan-out: one source per upstream identity, alive from its first subscriber to its last. */

function hub(maxSubscriptions?: number) {
  const started: string[] = [];
  const stopped: string[] = [];
  const deliver = new Map<string, (changes: readonly AlertChangeEvent[]) => void>();
  const tokens = new Map<string, TokenProvider | undefined>();
  const live = new LiveAlerts({
    startSource: (identity, sourceTokens, push) => {
      started.push(identity);
      tokens.set(identity, sourceTokens);
      deliver.set(identity, push);
      return { stop: async () => void stopped.push(identity) };
    },
    ...(maxSubscriptions !== undefined && { maxSubscriptions }),
  });
  return { live, started, stopped, deliver, tokens };
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

  it('polls on behalf of a caller with the tokens of a subscriber still subscribed, the newest, read at each call', async () => {
    const { live, tokens } = hub();
    // One caller (one identity) on three connections, each with its own token, as it was when it subscribed.
    const caller = (token: string): TokenProvider => ({ identity: 'obo:alice', getToken: async () => token });
    const first = live.subscribe({ identity: 'obo:alice', tokens: caller('first'), matches: all });
    const source = tokens.get('obo:alice')!;
    expect(source.identity).toBe('obo:alice');
    expect(await source.getToken()).toBe('first');

    const second = live.subscribe({ identity: 'obo:alice', tokens: caller('second'), matches: all });
    const third = live.subscribe({ identity: 'obo:alice', tokens: caller('third'), matches: all });
    expect(await source.getToken()).toBe('third');
    // The first subscriber leaves (its token may be expired, or revoked): never used again.
    await first.return();
    expect(await source.getToken()).toBe('third');
    await third.return();
    expect(await source.getToken()).toBe('second');
    await second.return();
  });

  it("gives the gateway's own identity's source no tokens (it polls with the gateway's)", () => {
    const { live, tokens } = hub();
    live.subscribe({ identity: 'app', matches: all });
    expect(tokens.has('app')).toBe(true);
    expect(tokens.get('app')).toBeUndefined();
  });

  it('announces a write to the identity’s subscribers and publishes it, telling each alert version once', async () => {
    const published: [string, string[]][] = [];
    const pushes = new Map<string, (changes: readonly AlertChangeEvent[]) => void>();
    const live = new LiveAlerts({
      startSource: (identity, _tokens, push) => {
        pushes.set(identity, push);
        return { stop: async () => {} };
      },
      publish: (identity, changes) => published.push([identity, changes.map((c) => c.alert.id)]),
    });
    const app = live.subscribe({ identity: 'app', matches: all });
    const other = live.subscribe({ identity: 'obo:alice', matches: all });
    const v1 = { id: '1', lastUpdateTime: '2026-12-03T10:00:00.1234567Z' } as AlertDto;
    const v2 = { id: '1', lastUpdateTime: '2026-12-03T10:00:05Z' } as AlertDto;

    live.announce('app', [v1]);
    // The poll finds the same version, then a later one, then the first again (an old published message).
    pushes.get('app')!([{ kind: 'UPDATED', alert: { ...v1 } }]);
    pushes.get('app')!([{ kind: 'UPDATED', alert: v2 }]);
    pushes.get('app')!([{ kind: 'UPDATED', alert: v1 }]);
    pushes.get('app')!([change('2', 'Low')]);

    const told = [];
    for (let i = 0; i < 3; i++) told.push((await app.next()).value?.alertChanges.alert);
    expect(told.map((a) => [a?.id, a?.lastUpdateTime])).toEqual([
      ['1', v1.lastUpdateTime],
      ['1', v2.lastUpdateTime],
      ['2', undefined],
    ]);
    expect(published).toEqual([['app', ['1']]]);
    // Another identity's subscribers are not told of the write.
    pushes.get('obo:alice')!([change('3', 'Low')]);
    expect((await other.next()).value?.alertChanges.alert.id).toBe('3');
  });
});
