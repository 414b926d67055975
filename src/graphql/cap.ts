import type { CallScope, DefenderClient, DefenderRequest } from '../defender/client.js';
import { ErrorCode, GatewayError } from '../errors.js';

/**
 * The execution-time stop, for when an estimate was wrong. Admission lets an operation run when its expected
 * cost fits under MAX_OPERATION_CALLS; if its fan-out turns out larger, the client's own cap would stop it at
 * the cap, after spending every call up to it on an answer that then fails. Instead, each fan-out level is
 * checked as it starts: DataLoader hands a per-parent route all the keys of one level at once, so the calls
 * that level needs are known before any of them is made. When they do not fit in what is left of the cap
 * (counting the calls promised to other levels still in flight), the whole level fails at once with
 * QUERY_TOO_EXPENSIVE and none of its calls is made: its fields could not all be answered anyway.
 *
 * What is promised is counted from the operation's calls when the first level in flight started, plus every
 * level's needs since (until none is in flight): never less than what those levels will spend, so two levels
 * running side by side cannot both pass and cross the cap together. The client's cap stays the last stop.
 */

interface Ledger {
  /** The operation's calls when the levels now in flight began. */
  base: number;
  /** Calls promised to those levels. */
  promised: number;
  /** Levels in flight. */
  open: number;
}

const ledgers = new WeakMap<CallScope, Ledger>();
const cut = new WeakSet<CallScope>();

/**
 * Runs one fan-out level's calls (`requests`, one per key) when they fit in what is left of the operation's
 * cap; otherwise fails at once, without a call, and tells `onCut` (once per operation).
 */
export async function withinCap<T>(
  client: DefenderClient,
  scope: CallScope,
  requests: readonly DefenderRequest[],
  run: () => Promise<T>,
  onCut?: () => void,
): Promise<T> {
  const { maxCalls } = scope;
  if (maxCalls === undefined) return run();
  let ledger = ledgers.get(scope);
  if (!ledger) ledgers.set(scope, (ledger = { base: 0, promised: 0, open: 0 }));
  const committed = () =>
    ledger.open > 0 ? Math.max(scope.stats.calls, ledger.base + ledger.promised) : scope.stats.calls;
  let needed = requests.length;
  // Near the cap, what the cache holds decides: a cached answer is no call.
  if (committed() + needed > maxCalls && !scope.fresh) {
    needed = (await client.lookup(requests, scope)).filter((answer) => answer === undefined).length;
  }
  if (needed > 0 && committed() + needed > maxCalls) {
    if (!cut.has(scope)) {
      cut.add(scope);
      onCut?.();
    }
    const spent = scope.stats.calls;
    throw new GatewayError(
      ErrorCode.QueryTooExpensive,
      `Stopped before ${needed} more Defender calls: with the ${committed()} already spent or under way, this ` +
        `operation would pass its cap of ${maxCalls}. Ask for fewer items with \`first\`, or split the operation.`,
      { cost: { estimated: committed() + needed, spent, max: maxCalls } },
    );
  }
  if (ledger.open === 0) {
    ledger.base = scope.stats.calls;
    ledger.promised = 0;
  }
  ledger.open++;
  ledger.promised += needed;
  try {
    return await run();
  } finally {
    ledger.open--;
  }
}

/** Whether an operation was cut at a fan-out level. */
export function wasCut(scope: CallScope): boolean {
  return cut.has(scope);
}
