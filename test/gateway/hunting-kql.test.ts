import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StaticTokenProvider } from '../../src/auth/tokens.js';
import { createMemoryCache } from '../../src/cache/entity-cache.js';
import { DefenderClient, newStats } from '../../src/defender/client.js';
import { huntLogonUsers, huntUserMachines } from '../../src/defender/hunting.js';
import { LocalRateLimiter } from '../../src/rate-limit/limiter.js';
import { parseRateLimits } from '../../src/rate-limit/windows.js';
import type { Simulator } from '../../src/simulator/server.js';
import { TOKEN, testSimulator } from '../helpers/simulator.js';

/**
 * Hunting queries as the simulator receives them: an account name with quotes, spaces or unicode arrives as
 * its escaped literal in the call log, parses, and matches nobody else; rows map back to their ids.
 */

describe('hunting through the client, against the simulator', () => {
  let sim: Simulator;
  let client: DefenderClient;
  beforeAll(async () => {
    sim = await testSimulator();
    client = new DefenderClient({
      baseUrl: new URL(sim.url),
      tokens: new StaticTokenProvider(TOKEN),
      limiter: new LocalRateLimiter(parseRateLimits('1000/60s')),
      cache: createMemoryCache(),
      ttlMs: () => 0,
      timeoutMs: 5_000,
      maxRetries: 0,
      maxThrottleRetries: 0,
    });
  });
  afterAll(() => sim.close());
  const scope = () => ({ stats: newStats(), deadline: Date.now() + 10_000 });

  it('sends a hostile account name as its escaped literal, and it matches nobody', async () => {
    sim.resetCalls();
    const names = ["k.o'neil", 'first last', 'Ünïcødé ☃'];
    const machines = await huntUserMachines(client, names, scope());
    expect([...machines.values()]).toEqual([[], [], []]);
    expect(sim.calls.map((c) => c.api)).toEqual(['hunting']);
    expect(sim.calls[0]!.kql).toContain(`dynamic(["k.o'neil", "first last", "Ünïcødé ☃"])`);
  });

  it('names each machine of an account with its computerDnsName, as REST lists them', async () => {
    const user = sim.tenant.users.find(
      (u) =>
        sim.tenant.usersByAccountName(u.accountName).length === 1 && sim.tenant.machinesOfUser(u).length > 1,
    )!;
    const machines = await huntUserMachines(client, [user.accountName], scope());
    const byId = (list: readonly { id: string; computerDnsName: string | null }[]) =>
      [...list]
        .map((m) => ({ id: m.id, computerDnsName: m.computerDnsName }))
        .sort((a, b) => a.id.localeCompare(b.id));
    expect(byId(machines.get(user.accountName.toLowerCase())!)).toEqual(
      byId(sim.tenant.machinesOfUser(user)),
    );
  });

  it('maps rows to machines by id: every id asked is answered, the ones without logons with none', async () => {
    const [withLogons] = sim.tenant.machines.filter((m) => sim.tenant.logonUsers(m.id).length > 0);
    const unknown = 'f'.repeat(40);
    const accounts = await huntLogonUsers(client, [unknown, withLogons!.id], scope());
    expect(accounts.get(unknown)).toEqual([]);
    expect(
      accounts
        .get(withLogons!.id)!
        .map((a) => `${a.accountDomain}\\${a.accountName}`)
        .sort(),
    ).toEqual(
      sim.tenant
        .logonUsers(withLogons!.id)
        .map((u) => u.id)
        .sort(),
    );
  });

  it('sends each set of parents its own query, however much of it another recent set shares', async () => {
    const [a, b, c, d] = sim.tenant.machines.filter((m) => sim.tenant.logonUsers(m.id).length > 0);
    const sets = [
      [a!.id, b!.id, c!.id],
      [a!.id, b!.id, d!.id],
      [a!.id, c!.id, b!.id],
      [a!.id, b!.id, c!.id],
    ];
    sim.resetCalls();
    for (const ids of sets) {
      const accounts = await huntLogonUsers(client, ids, scope());
      expect([...accounts.keys()].sort()).toEqual([...ids].sort());
      for (const id of ids)
        expect(
          accounts
            .get(id)!
            .map((u) => `${u.accountDomain}\\${u.accountName}`)
            .sort(),
        ).toEqual(
          sim.tenant
            .logonUsers(id)
            .map((u) => u.id)
            .sort(),
        );
    }
    // The cache keeps no answer here (TTL 0): every set is asked, each with its own ids in its own order.
    const asked = sim.calls.map((call) =>
      sets.findIndex((ids) => call.kql!.includes(JSON.stringify(ids).slice(1, -1).replaceAll(',', ', '))),
    );
    expect(asked).toEqual([0, 1, 2, 0]);
  });
});
