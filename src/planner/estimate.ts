import {
  Kind,
  buildSchema,
  getArgumentValues,
  getNullableType,
  getVariableValues,
  isEnumType,
  isInputObjectType,
  isListType,
} from 'graphql';
import type {
  DocumentNode,
  FieldNode,
  FragmentDefinitionNode,
  GraphQLInputType,
  GraphQLSchema,
  OperationDefinitionNode,
  SelectionSetNode,
} from 'graphql';
import type { DefenderApi } from '../defender/apis.js';
import { ErrorCode, GatewayError } from '../errors.js';
import type { CachedAnswer } from '../cache/entity-cache.js';
import type { DefenderRequest } from '../defender/client.js';
import { parseAlertId, parseMachineKey, parseUserKey } from '../defender/ids.js';
import { alertListRequest, collection, machineListRequest } from '../defender/resources.js';
import type { AlertDto, MachineDto, UserDto } from '../defender/types.js';
import type { AlertFilter, MachineFilter } from '../generated/resolvers.js';
import { ENUM_VALUES } from '../graphql/enums.js';
import { alertFilter, machineFilter } from '../graphql/filters.js';
import { checkFirst, decodeCursor } from '../graphql/resolvers/connection.js';
import { MACHINE_FREE_FIELDS, USER_FREE_FIELDS } from '../graphql/parents.js';
import { loadTypeDefs } from '../graphql/schema.js';
import { selectedFields } from '../graphql/selection.js';

/** Fewest and most upstream calls. */
export interface CallRange {
  min: number;
  max: number;
}

/** What an operation can cost Defender, computed before any call. */
export interface CostEstimate {
  readonly min: number;
  readonly max: number;
  readonly byApi: Partial<Record<DefenderApi, CallRange>>;
}

/**
 * The most items a relationship is assumed to return when nothing cached says how many it has: Defender
 * documents no bound, so `max` is an upper bound under these assumptions (sized well above what busy
 * tenants show: a machine's logon users are a handful, an `administrator` account logs on to dozens).
 */
export const ASSUMED_FANOUT = {
  logonUsers: 25,
  machineAlerts: 100,
  userMachines: 100,
  userAlerts: 500,
} as const;

export interface EstimateOptions {
  /** What the cache holds for these requests (read without counting, and undefined when bypassed). */
  readonly lookup: (requests: readonly DefenderRequest[]) => Promise<(CachedAnswer | undefined)[]>;
  readonly batchSize: number;
  readonly maxPageSize: number;
}

/**
 * Entities a field's subselection applies to: the exact objects, when the cache already holds what the field
 * will resolve from (then every call below is known); or only how many there can be, when they come from calls
 * not made yet. `partial` entities hold only what another answer said of them (see parents.ts); `mayRepeat`
 * says one entity may stand more than once (so per-entity calls are deduplicated to as few as one).
 */
type Entities<T> =
  | { readonly kind: 'known'; readonly items: readonly T[] }
  | { readonly kind: 'unknown'; readonly lo: number; readonly hi: number; readonly mayRepeat: boolean };

type MachineItem =
  { readonly partial: false; readonly machine: MachineDto } | { readonly partial: true; readonly id: string };
type UserItem =
  | { readonly kind: 'full'; readonly user: UserDto }
  | { readonly kind: 'alert'; readonly alertId: string; readonly accountName: string }
  | { readonly kind: 'name'; readonly accountName: string };
type AlertItem = { readonly alert: AlertDto; readonly evidenceOmitted: boolean };

interface MachineSet {
  readonly entities: Entities<MachineItem>;
  readonly partial: boolean;
}
interface UserSet {
  readonly entities: Entities<UserItem>;
  /** Where detail fields come from for users of an unknown set. */
  readonly kind: UserItem['kind'];
}
interface AlertSet {
  readonly entities: Entities<AlertItem>;
  readonly evidenceOmitted: boolean;
}

let ownSchema: GraphQLSchema | undefined;
/**
 * The schema built by this module's own `graphql`, so argument coercion never crosses module instances. The SDL
 * is a federation subgraph's: `assumeValidSDL` lets the `@link` and `@key` directives through undeclared (the
 * server's schema, from `@apollo/subgraph`, validates them); only the types and arguments are needed here.
 */
function schema(): GraphQLSchema {
  return (ownSchema ??= buildSchema(loadTypeDefs(), { assumeValidSDL: true }));
}

/**
 * Estimates the upstream calls of an operation before it runs, mirroring how the resolvers spend them: which
 * fields come free from a parent's JSON, which per-entity routes DataLoader deduplicates, how lookups by id
 * batch, and what the cache already holds. Throws the same BAD_USER_INPUT a resolver would for a bad id or
 * filter, so bad input is refused before any call.
 */
export async function estimateCost(
  document: DocumentNode,
  operationName: string | null | undefined,
  rawVariables: Record<string, unknown> | undefined,
  options: EstimateOptions,
): Promise<CostEstimate | undefined> {
  const operation = document.definitions.find(
    (d): d is OperationDefinitionNode =>
      d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName),
  );
  if (!operation || operation.operation !== 'query') return undefined;
  const coerced = getVariableValues(schema(), operation.variableDefinitions ?? [], rawVariables ?? {});
  if (coerced.errors) return undefined; // execution reports them, with no call made
  const fragments = Object.fromEntries(
    document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((d) => [d.name.value, d]),
  );
  const planner = new Planner(options, coerced.coerced, fragments);
  await planner.query(operation.selectionSet);
  return planner.result();
}

class Planner {
  readonly #byApi = new Map<DefenderApi, CallRange>();
  readonly #total: CallRange = { min: 0, max: 0 };
  /** Requests already counted, so that aliases and repeated entities are not counted twice. */
  readonly #counted = new Set<string>();

  constructor(
    private readonly options: EstimateOptions,
    private readonly variables: Record<string, unknown>,
    private readonly fragments: Record<string, FragmentDefinitionNode>,
  ) {}

  result(): CostEstimate {
    return { min: this.#total.min, max: this.#total.max, byApi: Object.fromEntries(this.#byApi) };
  }

  async query(selection: SelectionSetNode): Promise<void> {
    const fields = this.#collect(selection);
    const machineIds: { id: string; field: FieldNode }[] = [];
    const machineNames: { id: string; field: FieldNode }[] = [];
    const alertIds: { id: string; field: FieldNode }[] = [];
    for (const field of fields) {
      try {
        await this.#root(field, machineIds, machineNames, alertIds);
      } catch (error) {
        // A bad id or filter fails its own field, with no call; the rest of the operation is still estimated.
        if (!(error instanceof GatewayError && error.code === ErrorCode.BadUserInput)) throw error;
      }
    }
    await this.#lookups('machines/{id}', 'machines', machineIds, (field, answer) =>
      this.machines(field, {
        entities: one(answer, (body) => ({ partial: false, machine: body as MachineDto }) as const),
        partial: false,
      }),
    );
    // Names always go as batched `computerDnsName in (…)` filters on the list route, one call per chunk.
    const names = [...new Set(machineNames.map((n) => n.id))];
    const chunks = Math.ceil(names.length / this.options.batchSize);
    if (chunks > 0) this.#add('machines', chunks, chunks);
    for (const { field } of machineNames) {
      await this.machines(field, {
        entities: { kind: 'unknown', lo: 0, hi: 1, mayRepeat: false },
        partial: false,
      });
    }
    await this.#lookups('alerts/{id}', 'alerts', alertIds, (field, answer) =>
      this.alerts(field, {
        entities: one(answer, (body) => ({ alert: body as AlertDto, evidenceOmitted: false })),
        evidenceOmitted: false,
      }),
    );
  }

  /** One root field: its own calls, or (lookups by id) its share of the batched ones, counted together. */
  async #root(
    field: FieldNode,
    machineIds: { id: string; field: FieldNode }[],
    machineNames: { id: string; field: FieldNode }[],
    alertIds: { id: string; field: FieldNode }[],
  ): Promise<void> {
    const args = this.#args('Query', field);
    switch (field.name.value) {
      case 'machine': {
        const key = parseMachineKey(args['id'] as string);
        if (key.kind === 'id') machineIds.push({ id: key.value, field });
        else machineNames.push({ id: key.value.toLowerCase(), field });
        break;
      }
      case 'alert':
        alertIds.push({ id: parseAlertId(args['id'] as string), field });
        break;
      case 'machines': {
        const filter = machineFilter(this.#filter('machines', args) as MachineFilter);
        const top = checkFirst(args['first'] as number, this.options.maxPageSize);
        const page = await this.#list<MachineDto>(
          machineListRequest({ filter, top: top + 1, skip: decodeCursor(args['after'] as string) }),
          top,
        );
        await this.#connection(field, (f) =>
          this.machines(f, {
            entities: mapKnown(page, (m: MachineDto) => ({ partial: false, machine: m }) as const),
            partial: false,
          }),
        );
        break;
      }
      case 'alerts': {
        const filter = alertFilter(this.#filter('alerts', args) as AlertFilter);
        const top = checkFirst(args['first'] as number, this.options.maxPageSize);
        const page = await this.#list<AlertDto>(
          alertListRequest({ filter, top: top + 1, skip: decodeCursor(args['after'] as string) }),
          top,
        );
        await this.#connection(field, (f) =>
          this.alerts(f, {
            entities: mapKnown(page, (a: AlertDto) => ({ alert: a, evidenceOmitted: false })),
            evidenceOmitted: false,
          }),
        );
        break;
      }
      case 'user': {
        const { accountName } = parseUserKey(args['id'] as string);
        await this.users(field, {
          entities: { kind: 'known', items: [{ kind: 'name', accountName }] },
          kind: 'name',
        });
        break;
      }
    }
  }

  async machines(field: FieldNode, machines: MachineSet): Promise<void> {
    const fields = this.#collect(field.selectionSet);
    if (machines.partial && fields.some((f) => !MACHINE_FREE_FIELDS.has(f.name.value))) {
      await this.#batchedRecords('machines/{id}', 'machines', machines.entities, (m) =>
        m.partial ? m.id : undefined,
      );
    }
    for (const f of fields) {
      if (f.name.value === 'logonUsers') {
        await this.#perEntity<MachineItem, UserDto>(
          machines.entities,
          (m) => idOf(m),
          'machines/{id}/logonusers',
          ASSUMED_FANOUT.logonUsers,
          (children) =>
            this.users(f, {
              entities: mapKnown(children, (u: UserDto) => ({ kind: 'full', user: u }) as const),
              kind: 'full',
            }),
        );
      } else if (f.name.value === 'alerts') {
        await this.#perEntity<MachineItem, AlertDto>(
          machines.entities,
          (m) => idOf(m),
          'machines/{id}/alerts',
          ASSUMED_FANOUT.machineAlerts,
          (children) =>
            this.alerts(f, {
              entities: mapKnown(children, (a: AlertDto) => ({ alert: a, evidenceOmitted: true })),
              evidenceOmitted: true,
            }),
        );
      }
    }
  }

  async users(field: FieldNode, set: UserSet): Promise<void> {
    const fields = this.#collect(field.selectionSet);
    const wantsRecord = fields.some((f) => !USER_FREE_FIELDS.has(f.name.value));
    const names = (u: UserItem) => (u.kind === 'full' ? u.user.accountName : u.accountName).toLowerCase();
    if (wantsRecord && set.kind === 'alert') {
      await this.#perEntity<UserItem, never>(
        set.entities,
        (u) => (u.kind === 'alert' ? u.alertId : undefined),
        'alerts/{id}/user',
        1,
        async () => {},
        Number.POSITIVE_INFINITY,
        // One user, not a collection; nothing under it costs a call.
        () => [],
      );
    }
    if (wantsRecord && set.kind === 'name') {
      // The record is found among the logon users of the account's machines: usually the first one.
      await this.#perEntity<UserItem, MachineDto>(
        set.entities,
        names,
        'users/{id}/machines',
        ASSUMED_FANOUT.userMachines,
        async (machines) => {
          const first =
            machines.kind === 'known'
              ? { kind: 'known' as const, items: machines.items.slice(0, 1) }
              : machines;
          await this.#perEntity<MachineDto, never>(
            first,
            (m: MachineDto) => m.id,
            'machines/{id}/logonusers',
            1,
            async () => {},
            1,
          );
        },
      );
    }
    for (const f of fields) {
      if (f.name.value === 'machines') {
        await this.#perEntity<UserItem, MachineDto>(
          set.entities,
          names,
          'users/{id}/machines',
          ASSUMED_FANOUT.userMachines,
          (children) =>
            this.machines(f, {
              entities: mapKnown(children, (m: MachineDto) => ({ partial: false, machine: m }) as const),
              partial: false,
            }),
        );
      } else if (f.name.value === 'alerts') {
        await this.#perEntity<UserItem, AlertDto>(
          set.entities,
          names,
          'users/{id}/alerts',
          ASSUMED_FANOUT.userAlerts,
          (children) =>
            this.alerts(f, {
              entities: mapKnown(children, (a: AlertDto) => ({ alert: a, evidenceOmitted: true })),
              evidenceOmitted: true,
            }),
        );
      }
    }
  }

  async alerts(field: FieldNode, set: AlertSet): Promise<void> {
    const fields = this.#collect(field.selectionSet);
    for (const f of fields) {
      if (f.name.value === 'evidence' && set.evidenceOmitted) {
        await this.#batchedRecords('alerts/{id}', 'alerts', set.entities, (a) => a.alert.id);
      } else if (f.name.value === 'machine') {
        await this.machines(f, {
          entities: mapEntities(set.entities, (a) => [{ partial: true, id: a.alert.machineId }], true),
          partial: true,
        });
      } else if (f.name.value === 'user') {
        const related = (a: AlertItem): UserItem[] =>
          a.alert.relatedUser
            ? [{ kind: 'alert', alertId: a.alert.id, accountName: a.alert.relatedUser.userName }]
            : [];
        await this.users(f, { entities: mapEntities(set.entities, related, true), kind: 'alert' });
      }
    }
  }

  /** `nodes` and `edges { node }` of a connection both walk the page. */
  async #connection(field: FieldNode, walk: (nodeField: FieldNode) => Promise<void>): Promise<void> {
    for (const f of this.#collect(field.selectionSet)) {
      if (f.name.value === 'nodes') await walk(f);
      if (f.name.value === 'edges') {
        for (const e of this.#collect(f.selectionSet)) {
          if (e.name.value === 'node') await walk(e);
        }
      }
    }
  }

  /** A list page: known when cached, else one call for up to `top` entities. */
  async #list<T extends { id: string }>(request: DefenderRequest, top: number): Promise<Entities<T>> {
    const [cached] = await this.options.lookup([request]);
    if (cached)
      return { kind: 'known', items: cached.status === 404 ? [] : collection<T>(cached).slice(0, top) };
    this.#add(request.api, 1, 1, keyOf(request));
    return { kind: 'unknown', lo: 0, hi: top, mayRepeat: false };
  }

  /** Lookups by id at the root: one call for one uncached id, else one batched call per chunk. */
  async #lookups(
    single: DefenderApi,
    list: DefenderApi,
    lookups: readonly { id: string; field: FieldNode }[],
    walk: (field: FieldNode, answer: CachedAnswer | undefined) => Promise<void>,
  ): Promise<void> {
    const answers = await this.options.lookup(lookups.map(({ id }) => ({ api: single, id })));
    const missing = new Set(lookups.filter((_, i) => !answers[i]).map(({ id }) => id));
    if (missing.size === 1) this.#add(single, 1, 1);
    else if (missing.size > 1)
      this.#add(
        list,
        Math.ceil(missing.size / this.options.batchSize),
        Math.ceil(missing.size / this.options.batchSize),
      );
    for (const [i, { field }] of lookups.entries()) await walk(field, answers[i]);
  }

  /** Records loaded by id through the batching loaders, for the entities that need them. */
  async #batchedRecords<T>(
    single: DefenderApi,
    list: DefenderApi,
    entities: Entities<T>,
    idOf: (item: T) => string | undefined,
  ): Promise<void> {
    const batch = this.options.batchSize;
    if (entities.kind === 'known') {
      const ids = [...new Set(entities.items.map(idOf).filter((id): id is string => id !== undefined))];
      const answers = await this.options.lookup(ids.map((id) => ({ api: single, id })));
      const missing = ids.filter((_, i) => !answers[i]).length;
      if (missing === 1) this.#add(single, 1, 1);
      else if (missing > 1) this.#add(list, Math.ceil(missing / batch), Math.ceil(missing / batch));
      return;
    }
    if (entities.hi === 0) return;
    // One id is one single lookup, several are batched: which API is not known before the ids are.
    this.#addRange(
      { [single]: { min: 0, max: 1 }, [list]: { min: 0, max: Math.ceil(entities.hi / batch) } },
      {
        min: entities.lo > 0 ? 1 : 0,
        max: Math.max(1, Math.ceil(entities.hi / batch)),
      },
    );
  }

  /**
   * A route called once per distinct entity (DataLoader deduplicates within the operation). Known entities are
   * looked up in the cache, and what it holds becomes the known children (`childrenIn` reads them from a cached
   * answer: by default the route answers a collection); others count one call each.
   */
  async #perEntity<T, C>(
    entities: Entities<T>,
    keyOf: (item: T) => string | undefined,
    api: DefenderApi,
    fanout: number,
    children: (set: Entities<C>) => Promise<void>,
    maxCalls = Number.POSITIVE_INFINITY,
    childrenIn: (answer: CachedAnswer) => C[] = (answer) => collection<C & { id: string }>(answer),
  ): Promise<void> {
    if (entities.kind === 'unknown') {
      const hi = Math.min(entities.hi, maxCalls);
      const lo = Math.min(entities.mayRepeat ? Math.min(entities.lo, 1) : entities.lo, maxCalls);
      this.#add(api, lo, hi);
      return children({ kind: 'unknown', lo: 0, hi: entities.hi * fanout, mayRepeat: true });
    }
    const keys = [...new Set(entities.items.map(keyOf).filter((k): k is string => k !== undefined))].slice(
      0,
      maxCalls,
    );
    const answers = await this.options.lookup(keys.map((id) => ({ api, id })));
    const known: C[] = [];
    let uncached = 0;
    answers.forEach((answer, i) => {
      if (answer) known.push(...(answer.status === 404 ? [] : childrenIn(answer)));
      else if (this.#count(`${api} ${keys[i]}`)) uncached++;
    });
    this.#add(api, uncached, uncached);
    if (uncached === 0) return children({ kind: 'known', items: known });
    return children({ kind: 'unknown', lo: 0, hi: known.length + uncached * fanout, mayRepeat: true });
  }

  #count(key: string): boolean {
    if (this.#counted.has(key)) return false;
    this.#counted.add(key);
    return true;
  }

  #add(api: DefenderApi, min: number, max: number, key?: string): void {
    if (key !== undefined && !this.#count(key)) return;
    this.#addRange({ [api]: { min, max } }, { min, max });
  }

  #addRange(byApi: Partial<Record<DefenderApi, CallRange>>, total: CallRange): void {
    for (const [api, range] of Object.entries(byApi) as [DefenderApi, CallRange][]) {
      const current = this.#byApi.get(api) ?? { min: 0, max: 0 };
      this.#byApi.set(api, { min: current.min + range.min, max: current.max + range.max });
    }
    this.#total.min += total.min;
    this.#total.max += total.max;
  }

  /** The fields of a selection, through fragments, honouring @skip and @include. */
  #collect(selectionSet: SelectionSetNode | undefined): FieldNode[] {
    return selectedFields(selectionSet, this.fragments, this.variables);
  }

  #args(typeName: string, field: FieldNode): Record<string, unknown> {
    const type = schema().getType(typeName);
    const def = type && 'getFields' in type ? type.getFields()[field.name.value] : undefined;
    if (!def || !('args' in def)) return {};
    return getArgumentValues(def, field, this.variables);
  }

  /** A list's filter argument as its resolver receives it. */
  #filter(fieldName: 'machines' | 'alerts', args: Record<string, unknown>): unknown {
    return toWire(this.#argType('Query', fieldName, 'filter'), args['filter']);
  }

  #argType(typeName: string, fieldName: string, argName: string): GraphQLInputType {
    const type = schema().getType(typeName);
    const def = type && 'getFields' in type ? type.getFields()[fieldName] : undefined;
    const arg = def && 'args' in def ? def.args.find((a) => a.name === argName) : undefined;
    if (!arg) throw new Error(`no argument ${typeName}.${fieldName}(${argName})`);
    return arg.type;
  }
}

function keyOf(request: DefenderRequest): string {
  return `${request.api} ${request.id ?? ''}?${JSON.stringify(request.query ?? {})}`;
}

function idOf(item: MachineItem): string {
  return item.partial ? item.id : item.machine.id;
}

/** The one entity of a lookup: known when cached (none when the cache holds a 404), else zero or one. */
function one<T>(answer: CachedAnswer | undefined, wrap: (body: unknown) => T): Entities<T> {
  if (!answer) return { kind: 'unknown', lo: 0, hi: 1, mayRepeat: false };
  return { kind: 'known', items: answer.status === 404 ? [] : [wrap(answer.body)] };
}

function mapKnown<C, T>(set: Entities<C>, wrap: (item: C) => T): Entities<T> {
  return set.kind === 'known' ? { kind: 'known', items: set.items.map(wrap) } : set;
}

/** Children found in each parent's own JSON (an alert's machine or user): as many as the parents, at most. */
function mapEntities<P, C>(set: Entities<P>, children: (item: P) => C[], mayRepeat: boolean): Entities<C> {
  if (set.kind === 'known') return { kind: 'known', items: set.items.flatMap(children) };
  return { kind: 'unknown', lo: 0, hi: set.hi, mayRepeat };
}

/** Input values as resolvers receive them: GraphQL enum names become Defender's wire strings. */
function toWire(type: GraphQLInputType, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  const nullable = getNullableType(type);
  if (isListType(nullable)) return (value as unknown[]).map((v) => toWire(nullable.ofType, v));
  if (isEnumType(nullable)) {
    const values = ENUM_VALUES[nullable.name as keyof typeof ENUM_VALUES] as
      Record<string, string> | undefined;
    return values?.[value as string] ?? value;
  }
  if (isInputObjectType(nullable)) {
    const fields = nullable.getFields();
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [
        k,
        fields[k] ? toWire(fields[k].type, v) : v,
      ]),
    );
  }
  return value;
}
