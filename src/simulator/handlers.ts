import type { AlertDto, MachineDto, UserDto } from '../defender/types.js';
import type { Tenant } from './data.js';
import type { FilterableProperties } from './odata.js';
import {
  ALERT_FILTERABLE,
  MACHINE_FILTERABLE,
  ODataError,
  compareForOrder,
  evaluateFilter,
  parseFilter,
  parseOrderBy,
} from './odata.js';
import type { RouteMatch } from './routes.js';

/** Defender's largest page, and the limit on `$top`. */
export const MAX_TOP = 10_000;

/** What a handler answers; the server adds latency, headers and the call log. */
export type Answer = (
  | { readonly json: unknown }
  | { readonly text: string }
  | { readonly empty: true }
  /** 200 with a body that is not JSON (fault injection). */
  | { readonly malformed: true }
) & { readonly status: number; readonly headers?: Readonly<Record<string, string>> };

/** Everything a handler needs to answer one call. */
export interface CallContext {
  readonly tenant: Tenant;
  readonly route: RouteMatch;
  readonly query: URLSearchParams;
  /** Path without the query string, as received. */
  readonly path: string;
  /** `http://host:port` as the client addressed it, for `@odata.context` and next links. */
  readonly origin: string;
  /** Device groups the caller's token may see; undefined means all. */
  readonly rbacGroupIds: ReadonlySet<number> | undefined;
  /** Page size when `$top` is absent (Defender: 10,000). */
  readonly pageSize: number;
  /** The simulator's clock, for findbyip's 30-day window. */
  readonly now: number;
  /** Machines Defender no longer returns (offboarded and aged out), though their alerts remain. Default none. */
  readonly retiredMachineIds?: ReadonlySet<string>;
}

type EntitySet = 'Machines' | 'Alerts' | 'Users';

export function defenderError(status: number, code: string, message: string): Answer {
  const target = `|${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}.`;
  return { status, json: { error: { code, message, target } } };
}

const notFound = (message: string) => defenderError(404, 'ResourceNotFound', message);

/** Answers one routed call from the tenant, as Defender would for this caller. */
export function handle(ctx: CallContext): Answer {
  try {
    return answer(ctx);
  } catch (error) {
    if (error instanceof ODataError) return defenderError(400, 'ODataError', error.message);
    throw error;
  }
}

function answer(ctx: CallContext): Answer {
  const { tenant, route } = ctx;
  const id = route.id ?? '';
  switch (route.api) {
    case 'machines': {
      const machines = tenant.machines.filter((m) => present(ctx, m));
      if (machines.length === 0) return defenderError(404, 'NotFound', 'No recent machines were found');
      return collection(ctx, machines, 'Machines', MACHINE_FILTERABLE);
    }
    case 'machines/{id}': {
      const machine = findMachine(ctx, id);
      return machine ? entity(ctx, machine, 'Machines') : notFound(`Machine ${id} was not found`);
    }
    case 'machines/{id}/alerts': {
      const machine = findMachine(ctx, id);
      if (!machine) return notFound(`Machine ${id} was not found`);
      return collection(ctx, tenant.alertsOfMachine(machine.id), 'Alerts', ALERT_FILTERABLE);
    }
    case 'machines/{id}/logonusers': {
      const machine = findMachine(ctx, id);
      if (!machine) return notFound(`Machine ${id} was not found`);
      return collection(ctx, tenant.logonUsers(machine.id), 'Users');
    }
    case 'alerts':
      return collection(ctx, visibleAlerts(ctx, tenant.alerts), 'Alerts', ALERT_FILTERABLE);
    case 'alerts/{id}': {
      const alert = findAlert(ctx, id);
      return alert ? entity(ctx, alert, 'Alerts') : notFound(`Alert ${id} was not found`);
    }
    case 'alerts/{id}/user': {
      const alert = findAlert(ctx, id);
      const related = alert?.relatedUser;
      const user = related && tenant.userById(`${related.domainName}\\${related.userName}`);
      return user ? entity(ctx, user, 'Users') : notFound(`There is no User related to alert ${id}`);
    }
    case 'alerts/{id}/machine': {
      const alert = findAlert(ctx, id);
      const machine = alert && findMachine(ctx, alert.machineId);
      return machine
        ? entity(ctx, machine, 'Machines')
        : notFound(`There is no Machine related to alert ${id}`);
    }
    case 'users/{id}/machines': {
      // Defender cannot tell an unknown account from an idle one: both are an empty collection.
      const machines = tenant.usersByAccountName(id).flatMap((u) => tenant.machinesOfUser(u));
      return collection(
        ctx,
        unique(machines).filter((m) => present(ctx, m)),
        'Machines',
        MACHINE_FILTERABLE,
      );
    }
    case 'users/{id}/alerts': {
      const alerts = tenant.usersByAccountName(id).flatMap((u) => tenant.alertsOfUser(u));
      return collection(ctx, visibleAlerts(ctx, unique(alerts)), 'Alerts', ALERT_FILTERABLE);
    }
    case 'machines/findbytag': {
      const tag = ctx.query.get('tag');
      if (!tag) return defenderError(400, 'MissingRequiredParameter', "Parameter 'tag' is required");
      const startsWith = ctx.query.get('useStartsWithFilter')?.toLowerCase() === 'true';
      const wanted = tag.toLowerCase();
      const machines = tenant.machines.filter(
        (m) =>
          present(ctx, m) &&
          m.machineTags.some((t) =>
            startsWith ? t.toLowerCase().startsWith(wanted) : t.toLowerCase() === wanted,
          ),
      );
      return collection(ctx, machines, 'Machines');
    }
    case 'machines/findbyip':
      return findByIp(ctx);
  }
}

/** `findbyip(ip='…',timestamp=…)`: machines that reported the IP, for a timestamp within the past 30 days. */
function findByIp(ctx: CallContext): Answer {
  const ip = ctx.route.args?.['ip'];
  const timestamp = ctx.route.args?.['timestamp'];
  if (!ip || !timestamp) {
    return defenderError(400, 'MissingRequiredParameter', "Parameters 'ip' and 'timestamp' are required");
  }
  if (!/^[0-9a-fA-F:.]+$/.test(ip))
    return defenderError(400, 'InvalidIpAddress', `Invalid IP address: ${ip}`);
  const at = Date.parse(timestamp);
  if (Number.isNaN(at)) return defenderError(400, 'InvalidInput', `Invalid timestamp: ${timestamp}`);
  if (at < ctx.now - 30 * 86_400_000 || at > ctx.now + 86_400_000) {
    return defenderError(400, 'InvalidInput', 'The timestamp must be within the past 30 days');
  }
  const machines = ctx.tenant.machines.filter(
    (m) => present(ctx, m) && m.ipAddresses.some((a) => a.ipAddress === ip && a.type !== 'SoftwareLoopback'),
  );
  return collection(ctx, machines, 'Machines');
}

function visible(ctx: CallContext, machine: MachineDto): boolean {
  return ctx.rbacGroupIds === undefined || ctx.rbacGroupIds.has(machine.rbacGroupId);
}

/** A machine Defender returns to this caller: visible to its token, and not retired. */
function present(ctx: CallContext, machine: MachineDto): boolean {
  return visible(ctx, machine) && !ctx.retiredMachineIds?.has(machine.id);
}

function visibleAlerts(ctx: CallContext, alerts: readonly AlertDto[]): AlertDto[] {
  if (ctx.rbacGroupIds === undefined) return [...alerts];
  return alerts.filter((a) => isAlertVisible(ctx.tenant, a, ctx.rbacGroupIds));
}

/**
 * Whether a token limited to these device groups sees the alert (the groups of its machine), as a delegated
 * token would, for reads and writes alike (`docs/defender-api.md` §2, §9). Undefined groups see everything.
 */
export function isAlertVisible(
  tenant: Tenant,
  alert: AlertDto,
  rbacGroupIds: ReadonlySet<number> | undefined,
): boolean {
  if (rbacGroupIds === undefined) return true;
  const machine = tenant.machineById(alert.machineId);
  return machine !== undefined && rbacGroupIds.has(machine.rbacGroupId);
}

/** `machines/{id}` takes the device id or its computer name; an invisible device is simply not found. */
function findMachine(ctx: CallContext, idOrName: string): MachineDto | undefined {
  const machine = ctx.tenant.machineById(idOrName.toLowerCase()) ?? ctx.tenant.machineByDnsName(idOrName);
  return machine && present(ctx, machine) ? machine : undefined;
}

function findAlert(ctx: CallContext, id: string): AlertDto | undefined {
  const alert = ctx.tenant.alertById(id);
  return alert && visibleAlerts(ctx, [alert]).length === 1 ? alert : undefined;
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

function entity(ctx: CallContext, value: MachineDto | AlertDto | UserDto, set: EntitySet): Answer {
  if (ctx.route.count) return defenderError(400, 'BadRequest', '$count applies to collections only');
  return entityAnswer(ctx.origin, value, set);
}

/** One entity as Defender answers it: 200, its `$entity` context, then every key (alerts with evidence). */
export function entityAnswer(origin: string, value: MachineDto | AlertDto | UserDto, set: EntitySet): Answer {
  return { status: 200, json: { '@odata.context': `${origin}/api/$metadata#${set}/$entity`, ...value } };
}

/**
 * A collection answer with Defender's OData options: `$filter` (on the documented properties only),
 * `$orderby`, `$skip`, `$top` (≤ 10,000; its presence suppresses the next link), `$select`, `$count`,
 * and `$expand=evidence` on alerts, whose evidence is otherwise `[]` in collections.
 */
function collection(
  ctx: CallContext,
  items: readonly (MachineDto | AlertDto | UserDto)[],
  set: EntitySet,
  filterable?: FilterableProperties,
): Answer {
  const q = ctx.query;
  for (const key of q.keys()) {
    if (key.startsWith('$') && !OPTIONS.has(key))
      throw new ODataError(`The query parameter '${key}' is not supported.`);
  }
  let result: readonly object[] = items;
  const filter = q.get('$filter');
  if (filter !== null) {
    if (!filterable) throw new ODataError(`The query option '$filter' is not allowed on this resource.`);
    const node = parseFilter(filter, filterable);
    result = result.filter((e) => evaluateFilter(node, e));
  }
  const orderBy = q.get('$orderby');
  if (orderBy !== null) {
    if (!filterable) throw new ODataError(`The query option '$orderby' is not allowed on this resource.`);
    const order = parseOrderBy(orderBy, filterable);
    result = [...result].sort((a, b) => compareForOrder(a, b, order));
  }
  if (ctx.route.count) return { status: 200, text: String(result.length) };

  const total = result.length;
  const skip = integerOption(q, '$skip', 0, Number.MAX_SAFE_INTEGER) ?? 0;
  const top = integerOption(q, '$top', 0, MAX_TOP);
  const take = top ?? ctx.pageSize;
  const page = result.slice(skip, skip + take);

  const expand = q.get('$expand');
  if (expand !== null && (set !== 'Alerts' || expand.trim().toLowerCase() !== 'evidence')) {
    throw new ODataError(`Property '${expand}' cannot be expanded.`);
  }
  const select = parseSelect(q.get('$select'), page[0]);
  const value = page.map((e) => {
    const shaped = set === 'Alerts' && expand === null ? { ...e, evidence: [] } : e;
    return select
      ? Object.fromEntries(select.map((k) => [k, (shaped as Record<string, unknown>)[k]]))
      : shaped;
  });

  const body: Record<string, unknown> = { '@odata.context': `${ctx.origin}/api/$metadata#${set}` };
  if (q.get('$count')?.toLowerCase() === 'true') body['@odata.count'] = total;
  body['value'] = value;
  if (top === null && skip + take < total) {
    const next = new URLSearchParams(q);
    next.set('$skip', String(skip + take));
    body['@odata.nextLink'] = `${ctx.origin}${ctx.path}?${next.toString()}`;
  }
  return { status: 200, json: body };
}

const OPTIONS = new Set(['$filter', '$orderby', '$skip', '$top', '$select', '$count', '$expand']);

function integerOption(q: URLSearchParams, name: string, min: number, max: number): number | null {
  const raw = q.get(name);
  if (raw === null) return null;
  if (!/^\d+$/.test(raw.trim())) throw new ODataError(`Invalid value '${raw}' for query option '${name}'.`);
  const value = Number(raw);
  if (value < min) throw new ODataError(`Invalid value '${raw}' for query option '${name}'.`);
  if (value > max) throw new ODataError(`The limit of '${max}' for Top query has been exceeded.`);
  return value;
}

/** `$select=id,computerDnsName` → the listed keys in the entity's own key order. */
function parseSelect(raw: string | null, sample: object | undefined): string[] | undefined {
  if (raw === null) return undefined;
  const wanted = raw.split(',').map((s) => s.trim().toLowerCase());
  if (!sample) return [];
  const keys = Object.keys(sample);
  for (const w of wanted) {
    if (!keys.some((k) => k.toLowerCase() === w))
      throw new ODataError(`Could not find a property named '${w}'.`);
  }
  return keys.filter((k) => wanted.includes(k.toLowerCase()));
}
