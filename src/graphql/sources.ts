import type { DefenderApi } from '../defender/apis.js';

/**
 * Where every entity and relationship of the schema comes from: the one table the resolvers (and their
 * loaders) and the cost planner both read, so what the planner counts is what the resolvers call. Per type:
 * what each kind of parent object already carries, how a partial parent's full record is loaded, and, per
 * relationship field, the sources that answer it. A relationship lists its sources in order of preference; the
 * fan-out is the prior the planner assumes when nothing cached says how many items a relationship has.
 */

/**
 * What a resolver of a type can receive: `record` is a full Defender record; `alertRef` is what an alert says
 * of its machine or user; `nameRef` a user known by name only; `listed` an alert from a route that leaves
 * `evidence` empty (`machines/{id}/alerts`, `users/{id}/alerts`); `huntedRef` a machine advanced hunting named
 * (its id and name).
 */
export type ParentKind = 'record' | 'alertRef' | 'nameRef' | 'listed' | 'huntedRef';

/** The entity types: the ones with their own parent kinds and relationships. */
export type EntityType = 'Machine' | 'User' | 'Alert';

/** Which option sizes a batched lookup (ids per `$filter=… in (…)` call). */
export type BatchOption = 'batchSize';

/** A route called once per distinct parent, with a key the parent carries (DataLoader deduplicates). */
export interface PerParentSource {
  readonly kind: 'perParent';
  readonly api: DefenderApi;
  /** The parent's property that fills the route's `{id}`. */
  readonly key: 'id' | 'accountName' | 'alertId';
  /** Defender matches the key case-insensitively: keys are lower-cased, so one account is one call. */
  readonly caseInsensitive?: boolean;
  /** An OData collection, or one entity (404 when there is none). */
  readonly answers: 'many' | 'one';
  /** What each answered entity is to the next level. */
  readonly yields: ParentKind;
  /** Each answered entity is also cached as its own record under this route, for later lookups by id. */
  readonly primes?: DefenderApi;
}

/**
 * Lookups by id gathered across the operation: one id is one call to `single`, several are one
 * `list?$filter=id in (…)` call per batch.
 */
export interface ByIdSource {
  readonly kind: 'byId';
  readonly single: DefenderApi;
  readonly list: DefenderApi;
  readonly batchedBy: BatchOption;
  readonly yields: 'record';
}

/** Lookups by computer name: one `$filter=computerDnsName in (…)` call per batch, never a name in the path. */
export interface ByNameSource {
  readonly kind: 'byName';
  readonly api: DefenderApi;
  readonly batchedBy: BatchOption;
  readonly yields: 'record';
  readonly primes: DefenderApi;
}

/** One page of a list route (`first` items), one call per distinct page. */
export interface PageSource {
  readonly kind: 'page';
  readonly api: DefenderApi;
  readonly yields: 'record';
  readonly primes?: DefenderApi;
}

/** Found in the parent's own JSON: no call for the child itself. */
export interface EmbeddedSource {
  readonly kind: 'embedded';
  /** The parent's property it is read from; `relatedUser` may be null, and then so is the child. */
  readonly from: 'machineId' | 'relatedUser';
  readonly yields: 'alertRef';
}

/** Made from the field's argument alone: no call. */
export interface ArgumentSource {
  readonly kind: 'argument';
  readonly yields: 'nameRef';
}

/**
 * A record found by walking two relationships: `through` (one of the type's own) from the parent, then `then`
 * (one of that relationship's type) on each of its items, until one of the answers is the entity sought (a
 * user known by name is found among its machines' logon users).
 */
export interface SearchSource {
  readonly kind: 'search';
  readonly through: string;
  readonly then: string;
}

/**
 * Advanced hunting (`docs/defender-api.md` §8): one query per chunk of parents answers a whole level of a
 * per-parent relationship (`DEFENDER_PLANS=auto`). It can give only some of the child's fields; a level whose
 * selection asks for another one is answered by the relationship's per-parent route instead.
 */
export interface HuntingSource {
  readonly kind: 'hunting';
  /** The relationship's per-parent route it stands in for, and the fallback when hunting cannot serve. */
  readonly for: DefenderApi;
  /** The fields of each child it can give (relationships of the child need only its key). */
  readonly gives: Carried;
  /** Of those, the ones a second query (the accounts' logon statistics) is needed for. */
  readonly secondQuery?: readonly string[];
  /** What each child is to the next level. */
  readonly yields: ParentKind;
}

export type Source =
  PerParentSource | ByIdSource | ByNameSource | PageSource | EmbeddedSource | ArgumentSource | HuntingSource;
export type RecordSource = PerParentSource | ByIdSource | SearchSource;

export interface Relationship {
  /** The named type of the field's value (an entity, or the connection's node for a page). */
  readonly type: EntityType;
  /** Most items one parent is assumed to have when nothing cached says (Defender documents no bound). */
  readonly fanout: number;
  /** In order of preference; the first whose `when` matches (for a lookup, the kind of key given) answers. */
  readonly sources: readonly (Source & { readonly when?: 'id' | 'name' })[];
}

/** Fields a kind of parent holds: exactly these, or every field but these. */
export type Carried = { readonly only: readonly string[] } | { readonly allBut: readonly string[] };

export interface TypeSources {
  /** What each partial kind of parent carries (a `record` carries everything). */
  readonly carried: Readonly<Partial<Record<ParentKind, Carried>>>;
  /** How each partial kind's full record is loaded, when a query asks for a field it does not carry. */
  readonly records: Readonly<Partial<Record<ParentKind, RecordSource>>>;
  readonly relationships: Readonly<Record<string, Relationship>>;
}

/** User properties derivable from logon events, per account (`docs/defender-api.md` §8.2). */
const HUNTED_USER_STATISTICS = [
  'lastSeen',
  'logonTypes',
  'logOnMachinesCount',
  'isDomainAdmin',
  'isOnlyNetworkUser',
] as const;

const machinesById = {
  kind: 'byId',
  single: 'machines/{id}',
  list: 'machines',
  batchedBy: 'batchSize',
  yields: 'record',
} as const satisfies ByIdSource;

const alertsById = {
  kind: 'byId',
  single: 'alerts/{id}',
  list: 'alerts',
  batchedBy: 'batchSize',
  yields: 'record',
} as const satisfies ByIdSource;

/** What advanced hunting says of a machine an account logged on to: `DeviceId` and `DeviceName` (§8.2). */
const HUNTED_MACHINE_FIELDS = ['id', 'computerDnsName'] as const;

/** What an alert says of its machine or user, and what a caller's name says of a user. */
const REF_FIELDS = {
  Machine: ['id', 'computerDnsName', 'rbacGroupName'],
  User: ['id', 'accountName', 'accountDomain'],
} as const;

export const SOURCES = {
  Query: {
    carried: {},
    records: {},
    relationships: {
      machine: {
        type: 'Machine',
        fanout: 1,
        sources: [
          { ...machinesById, when: 'id' },
          {
            kind: 'byName',
            api: 'machines',
            batchedBy: 'batchSize',
            yields: 'record',
            primes: 'machines/{id}',
            when: 'name',
          },
        ],
      },
      machines: {
        type: 'Machine',
        fanout: 1,
        sources: [{ kind: 'page', api: 'machines', yields: 'record', primes: 'machines/{id}' }],
      },
      alert: { type: 'Alert', fanout: 1, sources: [alertsById] },
      // `$expand=evidence`: a page's alerts are full records.
      alerts: { type: 'Alert', fanout: 1, sources: [{ kind: 'page', api: 'alerts', yields: 'record' }] },
      user: { type: 'User', fanout: 1, sources: [{ kind: 'argument', yields: 'nameRef' }] },
    },
  },
  Machine: {
    carried: { alertRef: { only: REF_FIELDS.Machine }, huntedRef: { only: HUNTED_MACHINE_FIELDS } },
    records: { alertRef: machinesById, huntedRef: machinesById },
    relationships: {
      // A machine's logon users are a handful.
      logonUsers: {
        type: 'User',
        fanout: 25,
        sources: [
          {
            kind: 'perParent',
            api: 'machines/{id}/logonusers',
            key: 'id',
            answers: 'many',
            yields: 'record',
          },
          {
            kind: 'hunting',
            for: 'machines/{id}/logonusers',
            gives: {
              only: [
                'id',
                'accountName',
                'accountDomain',
                'accountSid',
                ...HUNTED_USER_STATISTICS,
                'machines',
                'alerts',
              ],
            },
            secondQuery: HUNTED_USER_STATISTICS,
            yields: 'record',
          },
        ],
      },
      alerts: {
        type: 'Alert',
        fanout: 100,
        sources: [
          { kind: 'perParent', api: 'machines/{id}/alerts', key: 'id', answers: 'many', yields: 'listed' },
        ],
      },
    },
  },
  User: {
    carried: { alertRef: { only: REF_FIELDS.User }, nameRef: { only: REF_FIELDS.User } },
    records: {
      alertRef: {
        kind: 'perParent',
        api: 'alerts/{id}/user',
        key: 'alertId',
        answers: 'one',
        yields: 'record',
      },
      nameRef: { kind: 'search', through: 'machines', then: 'logonUsers' },
    },
    relationships: {
      // An `administrator` account logs on to dozens of machines.
      machines: {
        type: 'Machine',
        fanout: 100,
        sources: [
          {
            kind: 'perParent',
            api: 'users/{id}/machines',
            key: 'accountName',
            caseInsensitive: true,
            answers: 'many',
            yields: 'record',
            primes: 'machines/{id}',
          },
          // Machine ids and names: every other field is read from the machines' records, batched by id.
          { kind: 'hunting', for: 'users/{id}/machines', gives: { allBut: [] }, yields: 'huntedRef' },
        ],
      },
      alerts: {
        type: 'Alert',
        fanout: 500,
        sources: [
          {
            kind: 'perParent',
            api: 'users/{id}/alerts',
            key: 'accountName',
            caseInsensitive: true,
            answers: 'many',
            yields: 'listed',
          },
        ],
      },
    },
  },
  Alert: {
    carried: { listed: { allBut: ['evidence'] } },
    records: { listed: alertsById },
    relationships: {
      machine: {
        type: 'Machine',
        fanout: 1,
        sources: [{ kind: 'embedded', from: 'machineId', yields: 'alertRef' }],
      },
      // Defender answers 404 on `alerts/{id}/user` exactly when the alert has no `relatedUser`.
      user: {
        type: 'User',
        fanout: 1,
        sources: [{ kind: 'embedded', from: 'relatedUser', yields: 'alertRef' }],
      },
    },
  },
} as const satisfies Record<EntityType | 'Query', TypeSources>;

export type SourcedType = keyof typeof SOURCES;

/** The relationship a field of a type is, if it is one. */
export function relationshipOf(type: string, field: string): Relationship | undefined {
  const sources: TypeSources | undefined = (SOURCES as Record<string, TypeSources>)[type];
  return sources && Object.hasOwn(sources.relationships, field) ? sources.relationships[field] : undefined;
}

/** Whether a parent of this kind answers the field without loading its record. */
export function isFree(type: EntityType, kind: ParentKind, field: string): boolean {
  if (field === '__typename' || kind === 'record') return true;
  const carried: Carried | undefined = (SOURCES[type].carried as Partial<Record<ParentKind, Carried>>)[kind];
  if (!carried) return true;
  if ('only' in carried && carried.only.includes(field)) return true;
  if ('allBut' in carried && !carried.allBut.includes(field)) return true;
  // Relationships need only the key the parent carries, never its record.
  return relationshipOf(type, field) !== undefined;
}

/** How a partial parent's full record is loaded. */
export function recordSourceOf(type: EntityType, kind: ParentKind): RecordSource | undefined {
  return (SOURCES[type].records as Partial<Record<ParentKind, RecordSource>>)[kind];
}

/** The key a per-parent route is called with for this parent, as the parent holds it. */
export function keyOf(source: PerParentSource, parent: object): string | undefined {
  const value = (parent as Record<string, unknown>)[source.key];
  return typeof value === 'string' ? value : undefined;
}

/** The key as DataLoader deduplicates it: one call per distinct value (lower-cased when Defender ignores case). */
export function distinctKeyOf(source: PerParentSource, parent: object): string | undefined {
  const key = keyOf(source, parent);
  return key !== undefined && source.caseInsensitive ? key.toLowerCase() : key;
}

/**
 * How an item of a relationship is told apart from the others at the next level, as its own per-parent routes
 * key it: a user by its account name (lower-cased, as `users/{id}/…` are), anything else by its id.
 */
export function childKeyOf(type: EntityType, item: object): string {
  const { id, accountName } = item as { id?: unknown; accountName?: unknown };
  if (type === 'User' && typeof accountName === 'string') return accountName.toLowerCase();
  return String(id);
}

/**
 * The source a relationship is answered from: the first of its sources (the preferred one), which must be of
 * the kind the caller handles. Resolvers call this at load, so a table they cannot follow fails at start.
 */
export function sourceOf<K extends Source['kind']>(
  type: string,
  field: string,
  kind: K,
): Extract<Source, { kind: K }> {
  const source = relationshipOf(type, field)?.sources[0];
  if (source?.kind !== kind) throw new Error(`${type}.${field} is not answered by a ${kind} source`);
  return source as Extract<Source, { kind: K }>;
}

/** Every per-parent route of the table, once each, with how it answers. */
export function perParentSources(): PerParentSource[] {
  const found = new Map<DefenderApi, PerParentSource>();
  const add = (source: Source | RecordSource) => {
    if (source.kind === 'perParent') found.set(source.api, source);
  };
  for (const type of Object.values(SOURCES) as TypeSources[]) {
    Object.values(type.records).forEach(add);
    for (const relationship of Object.values(type.relationships)) relationship.sources.forEach(add);
  }
  return [...found.values()];
}

/** The advanced hunting source of a relationship, if it has one. */
export function huntingSourceOf(type: string, field: string): HuntingSource | undefined {
  return relationshipOf(type, field)?.sources.find((s): s is HuntingSource => s.kind === 'hunting');
}

/** Whether hunting gives this field of the relationship's children. */
export function huntingGives(source: HuntingSource, field: string): boolean {
  if (field === '__typename') return true;
  return 'only' in source.gives ? source.gives.only.includes(field) : !source.gives.allBut.includes(field);
}
