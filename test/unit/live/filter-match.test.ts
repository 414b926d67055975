import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AlertFilter } from '../../../src/generated/resolvers.js';
import { alertFilter } from '../../../src/graphql/filters.js';
import { alertMatcher } from '../../../src/live/filter-match.js';
import { generateTenant } from '../../../src/simulator/data.js';
import { ALERT_FILTERABLE, evaluateFilter, parseFilter } from '../../../src/simulator/odata.js';

/**
 * A subscriber's filter is evaluated in the gateway, and must say what `Query.alerts(filter:)` says: the same
 * AlertFilter, turned into Defender's `$filter` (filters.ts) and evaluated by the simulator's OData, keeps
 * exactly the alerts the matcher keeps.
 */

const tenant = generateTenant({ seed: 7, sizes: { machines: 30, users: 15, alerts: 400 } });
const alerts = tenant.alerts;
const pick = <T>(values: readonly T[]) => fc.subarray([...values], { minLength: 1, maxLength: 3 });
const timeOf = (i: number) => alerts[i % alerts.length]!.lastUpdateTime!;

const filters: fc.Arbitrary<AlertFilter> = fc.record(
  {
    ids: fc.subarray(
      alerts.slice(0, 30).map((a) => a.id),
      { minLength: 1, maxLength: 4 },
    ),
    status: pick(['New', 'InProgress', 'Resolved', 'Unknown'] as const),
    severity: pick(['Informational', 'Low', 'Medium', 'High'] as const),
    category: pick([...new Set(alerts.map((a) => a.category))].slice(0, 6)),
    assignedTo: fc.constantFrom(...new Set(alerts.map((a) => a.assignedTo).filter((a): a is string => !!a))),
    incidentId: fc.constantFrom(...alerts.slice(0, 20).map((a) => a.incidentId!)),
    lastUpdatedAfter: fc.nat().map(timeOf),
    lastUpdatedBefore: fc.nat().map(timeOf),
    createdAfter: fc.nat().map((i) => alerts[i % alerts.length]!.alertCreationTime!),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<AlertFilter>;

/** What Defender (the simulator) keeps for this filter. */
function keptByDefender(filter: AlertFilter): string[] {
  const odata = alertFilter(filter);
  if (!odata) return alerts.map((a) => a.id);
  const tree = parseFilter(odata, ALERT_FILTERABLE);
  return alerts.filter((a) => evaluateFilter(tree, a)).map((a) => a.id);
}

describe('alertMatcher', () => {
  it('keeps exactly the alerts Defender keeps for the same filter', () => {
    fc.assert(
      fc.property(filters, (filter) => {
        const matches = alertMatcher(filter);
        expect(alerts.filter(matches).map((a) => a.id)).toEqual(keptByDefender(filter));
      }),
      { numRuns: 300 },
    );
  });

  it('compares strings as Defender does, ignoring case', () => {
    const alert = alerts.find((a) => a.assignedTo)!;
    expect(alertMatcher({ assignedTo: alert.assignedTo!.toUpperCase() })(alert)).toBe(true);
    expect(keptByDefender({ assignedTo: alert.assignedTo!.toUpperCase() })).toContain(alert.id);
  });

  it('compares times to the 100 ns tick: After inclusive, Before exclusive', () => {
    const alert = { ...alerts[0]!, lastUpdateTime: '2026-11-01T00:00:00.0000002Z' };
    expect(alertMatcher({ lastUpdatedAfter: '2026-11-01T00:00:00.0000002Z' })(alert)).toBe(true);
    expect(alertMatcher({ lastUpdatedAfter: '2026-11-01T00:00:00.0000003Z' })(alert)).toBe(false);
    expect(alertMatcher({ lastUpdatedBefore: '2026-11-01T00:00:00.0000002Z' })(alert)).toBe(false);
    expect(alertMatcher({ lastUpdatedBefore: '2026-11-01T01:00:00.0000002+01:00' })(alert)).toBe(false);
    expect(alertMatcher({ lastUpdatedBefore: '2026-11-01T00:00:00.0000003Z' })(alert)).toBe(true);
  });

  it('refuses what the query refuses, with the same BAD_USER_INPUT', () => {
    for (const bad of [{ ids: ['../machines'] }, { createdAfter: '2026-02-30T00:00:00Z' }, { status: [] }]) {
      expect(() => alertMatcher(bad as AlertFilter)).toThrow(
        expect.objectContaining({ code: 'BAD_USER_INPUT' }) as Error,
      );
    }
  });
});
