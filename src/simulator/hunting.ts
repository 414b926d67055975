import type { Tenant } from './data.js';
import { HUNTING_RETENTION } from './data-logons.js';
import type { Answer } from './handlers.js';
import type { Table } from './kql/evaluate.js';
import { runQuery } from './kql/evaluate.js';
import { KqlError, position } from './kql/lexer.js';
import type { Json } from './kql/values.js';
import { GRAPH_TYPE_NAMES, parseDateTime, ticksOfMs, toJson } from './kql/values.js';

/** Graph's cap on one hunting result (`docs/defender-api.md` §8, "Quotas"). */
export const MAX_RESULT_ROWS = 100_000;
/** A request body past this is refused before it is parsed. */
export const MAX_BODY_BYTES = 1_048_576;

/** `POST /v1.0/security/runHuntingQuery` and `/beta/…`, any case, as Graph routes segments. */
export function matchHuntingRoute(path: string): { version: 'v1.0' | 'beta' } | undefined {
  const match = /^\/(v1\.0|beta)\/security\/runhuntingquery\/?$/i.exec(path);
  return match ? { version: match[1]!.toLowerCase() as 'v1.0' | 'beta' } : undefined;
}

/** Graph's error body: `{"error":{"code","message","innerError":{…}}}`. */
export function graphError(status: number, code: string, message: string): Answer {
  const id = crypto.randomUUID();
  return {
    status,
    json: {
      error: {
        code,
        message,
        innerError: {
          date: new Date().toISOString().slice(0, 19),
          'request-id': id,
          'client-request-id': id,
        },
      },
    },
  };
}

export interface HuntingCall {
  readonly tenant: Tenant;
  readonly version: 'v1.0' | 'beta';
  /** `http://host:port` as the client addressed it, for `@odata.context`. */
  readonly origin: string;
  /** The parsed body: `Query` and the optional `Timespan`. */
  readonly query: string;
  readonly timespan: string | undefined;
  /** Device groups the caller's token may see; undefined means all. */
  readonly rbacGroupIds: ReadonlySet<number> | undefined;
}

/** Reads `{"Query": "…", "Timespan": "P30D"}`; a string is a refusal to answer with 400. */
export function parseHuntingBody(
  body: string,
  contentType: string | undefined,
): { query: string; timespan: string | undefined } | string {
  if (!/^application\/json\b/i.test(contentType ?? '')) return 'The Content-Type must be application/json.';
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return 'The request body is not valid JSON.';
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return 'The request body must be a JSON object with a Query property.';
  }
  const fields = parsed as Record<string, unknown>;
  const query = fields['Query'] ?? fields['query'];
  const timespan = fields['Timespan'] ?? fields['timespan'];
  if (typeof query !== 'string' || query.trim() === '')
    return 'The Query property is required and must be a string.';
  if (timespan !== undefined && timespan !== null && typeof timespan !== 'string') {
    return 'The Timespan property must be a string such as "P30D".';
  }
  return { query, timespan: timespan ?? undefined };
}

/**
 * Runs a hunting query over the tenant's tables as this caller may see them: only rows of its device
 * groups, only within `Timespan` (default the last 30 days) and never older than 30 days. `now()` and
 * `ago()` count from the tenant's now, the present of every generated date.
 */
export function answerHunting(call: HuntingCall): Answer {
  const now = ticksOfMs(call.tenant.now.getTime());
  const window = parseTimespan(call.timespan, now);
  if (typeof window === 'string') return graphError(400, 'BadRequest', window);
  const start =
    window.start > now - BigInt(HUNTING_RETENTION) ? window.start : now - BigInt(HUNTING_RETENTION);
  const tables = new Map<string, Table>();
  for (const [name, table] of Object.entries(call.tenant.huntingTables())) {
    tables.set(name, visibleRows(table, call, start, window.end));
  }
  let result: Table;
  try {
    result = runQuery(call.query, { tables, now });
  } catch (error) {
    if (error instanceof KqlError) {
      return graphError(400, 'BadRequest', `${error.message} (${position(call.query, error.offset)})`);
    }
    throw error;
  }
  if (result.rows.length > MAX_RESULT_ROWS) {
    return graphError(
      400,
      'BadRequest',
      `Query result has ${result.rows.length} rows, over the limit of ${MAX_RESULT_ROWS}; narrow the query or use take.`,
    );
  }
  const { columns } = result;
  return {
    status: 200,
    json: {
      '@odata.context': `${call.origin}/${call.version}/$metadata#microsoft.graph.security.huntingQueryResults`,
      schema: columns.map((c) => ({ name: c.name, type: GRAPH_TYPE_NAMES[c.type] })),
      results: result.rows.map((row) => {
        const out: Record<string, Json> = {};
        columns.forEach((c, i) => {
          out[c.name] = toJson(row[i]!, c.type);
        });
        return out;
      }),
    },
  };
}

/** Rows of the window whose device this caller may see (a delegated token is trimmed like REST, §8). */
function visibleRows(table: Table, call: HuntingCall, start: bigint, end: bigint): Table {
  const time = table.columns.findIndex((c) => c.name === 'Timestamp');
  const device = table.columns.findIndex((c) => c.name === 'DeviceId');
  const groups = call.rbacGroupIds;
  return {
    columns: table.columns,
    rows: table.rows.filter((row) => {
      const at = row[time] as bigint;
      if (at < start || at > end) return false;
      if (!groups) return true;
      const machine = call.tenant.machineById(row[device] as string);
      return machine !== undefined && groups.has(machine.rbacGroupId);
    }),
  };
}

const DURATION = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;

/** `P30D`, `PT12H`, `P1DT2H` → ticks; undefined when not an ISO-8601 duration. */
function durationTicks(text: string): bigint | undefined {
  const match = DURATION.exec(text);
  if (!match || text.toUpperCase() === 'P' || text.toUpperCase().endsWith('T')) return undefined;
  const [, w = '0', d = '0', h = '0', m = '0', s = '0'] = match;
  const seconds = ((Number(w) * 7 + Number(d)) * 24 + Number(h)) * 3600 + Number(m) * 60 + Number(s);
  // Past ten thousand years a duration means "everything", and a longer one would not fit a number.
  return BigInt(Math.round(Math.min(seconds, 3e11) * 1000)) * 10_000n;
}

/**
 * Graph's `Timespan` forms: a duration back from now (`P30D`), `start/end`, `duration/end`, `start/duration`,
 * or a start alone (until now). Absent: the last 30 days.
 */
function parseTimespan(text: string | undefined, now: bigint): { start: bigint; end: bigint } | string {
  if (text === undefined || text.trim() === '') return { start: now - BigInt(HUNTING_RETENTION), end: now };
  const invalid = `The Timespan '${text}' is not an ISO-8601 duration or interval (e.g. "P30D").`;
  const parts = text.trim().split('/');
  if (parts.length > 2) return invalid;
  const [a = '', b] = parts;
  const dateOf = (s: string) => (DURATION.test(s) ? null : parseDateTime(s));
  if (b === undefined) {
    const duration = durationTicks(a);
    if (duration !== undefined) return { start: now - duration, end: now };
    const start = dateOf(a);
    return start === null ? invalid : { start, end: now };
  }
  const [startDuration, endDuration] = [durationTicks(a), durationTicks(b)];
  const [start, end] = [dateOf(a), dateOf(b)];
  if (start !== null && end !== null) return start <= end ? { start, end } : invalid;
  if (startDuration !== undefined && end !== null) return { start: end - startDuration, end };
  if (start !== null && endDuration !== undefined) return { start, end: start + endDuration };
  return invalid;
}
