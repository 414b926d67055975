import DataLoader from 'dataloader';
import type { CallScope, DefenderClient } from '../defender/client.js';
import type { HuntedAccount, HuntedMachine, HuntedUserStatistics } from '../defender/hunting.js';
import {
  accountKey,
  huntLogonUsers,
  huntUserMachines,
  huntUserStatistics,
  huntingHolds,
} from '../defender/hunting.js';
import { isAccountName, isMachineId } from '../defender/ids.js';
import { chunks } from '../defender/kql.js';
import type { DefenderPlans } from '../config/hunting.js';
import { GatewayError } from '../errors.js';
import { choosePlan } from '../planner/plan-choice.js';
import type { UpstreamLimiter } from '../rate-limit/limiter.js';
import type { PerParentLoaders } from './loaders.js';
import { PARTIAL } from './parents.js';
import type { HuntingSource, PerParentSource } from './sources.js';
import { keyOf } from './sources.js';

/** Which source served one relationship level, as `extensions.upstream.plans` reports it. */
export interface LevelPlan {
  /** The response path of the level, without list indices, e.g. `alerts.nodes.user.machines`. */
  readonly path: string;
  readonly source: 'hunting' | 'rest';
  /** Calls this level sent upstream for the relationship itself (hunting queries, or REST calls). */
  calls: number;
  /** Why a level that could have used hunting did not: the error code hunting failed with. */
  fallback?: string;
}

/**
 * A machine advanced hunting named: its id and `computerDnsName` (the events' `DeviceName`); its other fields
 * come from its record, batched by id (sources.ts says what this kind carries).
 */
export interface HuntedMachineRef {
  readonly [PARTIAL]: 'huntedRef';
  readonly id: string;
  readonly computerDnsName: string | null;
}

/**
 * A hunted relationship level the items of another level go on to, as the operation's selection asks it (worked
 * out in resolvers/entities.ts from the fields' nodes, as each of its resolvers works its own level out): when
 * the level before it is answered and everything this one needs is cached, it is answered at once for all its
 * parents, which then read their lists without a promise each.
 */
export interface LevelAhead {
  readonly source: HuntingSource;
  /** The relationship's per-parent route: the key each item gives the level. */
  readonly route: PerParentSource;
  readonly path: string;
  readonly statistics: boolean;
  /** The hunted levels after it. */
  readonly next: readonly LevelAhead[];
}

/** Told of each level that hunting was chosen for but could not serve (a metric and a log line). */
export type PlanFallbackObserver = (fallback: { readonly api: 'hunting'; readonly reason: string }) => void;

/**
 * One operation's plans for the relationship levels hunting can answer (`DEFENDER_PLANS`). Every parent of a
 * level is gathered by one DataLoader per (path, selection); when its batch runs, the level's plan is chosen by
 * the one rule the estimate follows too (planner/plan-choice.ts), from the parents whose REST answers are not
 * cached and both budgets. Hunted, one query per chunk of those parents answers them, and the cached ones come
 * from the cache; whenever hunting fails (throttled past the retries, 5xx, timeout, breaker open, Graph
 * unreachable, 403), or REST is chosen, the relationship's REST route answers, one call per parent, with the
 * same answers.
 */
export class HuntingPlans {
  readonly levels: LevelPlan[] = [];
  readonly #loaders = new Map<string, DataLoader<string, unknown, string>>();
  /**
   * What levels answered ahead gave each parent: by path, then with or without statistics, then by distinct key.
   * Read once per parent: the path is the resolvers' own string, whose hash V8 keeps.
   */
  readonly #ahead = new Map<string, [Map<string, unknown>?, Map<string, unknown>?]>();

  constructor(
    private readonly client: DefenderClient,
    private readonly scope: CallScope,
    private readonly limiter: UpstreamLimiter,
    private readonly plans: DefenderPlans,
    private readonly rest: PerParentLoaders,
    private readonly onFallback?: PlanFallbackObserver,
  ) {}

  get enabled(): boolean {
    return this.plans === 'auto';
  }

  /**
   * The children of `key`'s parent at `path`, by hunting or REST as the level's plan decides. `statistics`:
   * the selection asks user properties only the second query gives.
   */
  load(
    source: HuntingSource,
    path: string,
    key: string,
    statistics: boolean,
    ahead: readonly LevelAhead[] = [],
  ): Promise<unknown> {
    const id = `${path}\n${statistics}`;
    let loader = this.#loaders.get(id);
    if (!loader) {
      loader = new DataLoader<string, unknown, string>(
        (keys) => this.#level(source, path, keys, statistics, ahead),
        caseInsensitive(source) ? { cacheKeyFn: (k) => k.toLowerCase() } : {},
      );
      this.#loaders.set(id, loader);
    }
    return loader.load(key);
  }

  /**
   * What a level answered ahead gave the parent with `key` (undefined when it was not answered ahead: the
   * resolver loads it).
   */
  answeredAhead(source: HuntingSource, path: string, key: string, statistics: boolean): unknown {
    const level = this.#ahead.get(path)?.[statistics ? 1 : 0];
    return level?.get(caseInsensitive(source) ? key.toLowerCase() : key);
  }

  async #level(
    source: HuntingSource,
    path: string,
    keys: readonly string[],
    statistics: boolean,
    ahead: readonly LevelAhead[],
    choice?: LevelChoice,
  ): Promise<unknown[]> {
    const answers = await this.#answer(
      source,
      path,
      keys,
      statistics,
      choice ?? (await this.#choose(source, keys, statistics)),
    );
    for (const next of ahead) {
      // Answering ahead only saves work: should it fail, the level's resolvers load it as usual.
      await this.#answerAhead(next, answers).catch(() => undefined);
    }
    return answers;
  }

  /** The level's plan, by the rule the estimate follows, from which of its parents' REST answers are cached. */
  async #choose(source: HuntingSource, keys: readonly string[], statistics: boolean): Promise<LevelChoice> {
    const valid = source.for === 'users/{id}/machines' ? isAccountName : isMachineId;
    const cached = await this.#cached(source, keys);
    const uncached = keys.filter((_, i) => !cached[i]);
    const queries = chunks(uncached).length * (statistics ? 2 : 1);
    const plan = choosePlan({
      huntable: keys.every(valid),
      uncached: uncached.length,
      huntingInTime: this.limiter.whenAvailable('hunting', queries) <= this.scope.deadline,
      restInTime: this.limiter.whenAvailable(source.for, uncached.length) <= this.scope.deadline,
    });
    return { plan, cached, uncached };
  }

  /**
   * Answers `next` for every item of `answers` (the level before it) now, when it costs no call: its REST
   * answers all cached, or hunting chosen with its one query's answers cached. Otherwise its resolvers load it
   * as usual, and it is batched and planned the same way then.
   */
  async #answerAhead(next: LevelAhead, answers: readonly unknown[]): Promise<void> {
    const insensitive = caseInsensitive(next.source);
    const byDistinct = new Map<string, string>();
    for (const items of answers) {
      if (!Array.isArray(items)) continue;
      for (const item of items as object[]) {
        const key = keyOf(next.route, item);
        if (key === undefined) continue;
        const distinct = insensitive ? key.toLowerCase() : key;
        if (!byDistinct.has(distinct)) byDistinct.set(distinct, key);
      }
    }
    if (byDistinct.size === 0) return;
    const keys = [...byDistinct.values()];
    const choice = await this.#choose(next.source, keys, next.statistics);
    const free =
      choice.uncached.length === 0 ||
      (choice.plan === 'hunting' &&
        !next.statistics &&
        (await huntingHolds(this.client, next.source.for, choice.uncached, this.scope)));
    if (!free) return;
    const values = await this.#level(next.source, next.path, keys, next.statistics, next.next, choice);
    const level = new Map<string, unknown>();
    // A parent whose answer is an error (a cached 404, say) is left to its resolver, whose loader rejects it.
    [...byDistinct.keys()].forEach((distinct, i) => {
      if (!(values[i] instanceof Error)) level.set(distinct, values[i]);
    });
    let byStatistics = this.#ahead.get(next.path);
    if (!byStatistics) this.#ahead.set(next.path, (byStatistics = []));
    byStatistics[next.statistics ? 1 : 0] = level;
  }

  async #answer(
    source: HuntingSource,
    path: string,
    keys: readonly string[],
    statistics: boolean,
    { plan, cached, uncached }: LevelChoice,
  ): Promise<unknown[]> {
    if (plan === 'rest') return this.#byRest(source, path, keys);
    const before = this.scope.stats.byApi.hunting?.calls ?? 0;
    let hunted: unknown[];
    try {
      hunted =
        source.for === 'users/{id}/machines'
          ? await this.#userMachines(uncached)
          : await this.#logonUsers(uncached, statistics);
    } catch (error) {
      if (this.scope.signal?.aborted) throw error;
      const fallback = error instanceof GatewayError ? error.code : 'INTERNAL_SERVER_ERROR';
      this.onFallback?.({ api: 'hunting', reason: fallback });
      return this.#byRest(source, path, keys, fallback);
    }
    this.levels.push({
      path,
      source: 'hunting',
      calls: (this.scope.stats.byApi.hunting?.calls ?? 0) - before,
    });
    // The parents whose REST answers are cached are read from the cache, at no call.
    const byKey = new Map(uncached.map((key, i) => [key, hunted[i]]));
    const fromCache = keys.filter((_, i) => cached[i]);
    const loader = this.#restLoader(source);
    const cachedAnswers = fromCache.length > 0 ? await loader.loadMany(fromCache) : [];
    fromCache.forEach((key, i) => byKey.set(key, cachedAnswers[i]));
    return keys.map((key) => byKey.get(key));
  }

  /** Which keys' REST relationship answers the cache holds (none for `Cache-Control: no-cache`). */
  async #cached(source: HuntingSource, keys: readonly string[]): Promise<boolean[]> {
    if (this.scope.fresh) return keys.map(() => false);
    return this.client.holds(
      keys.map((id) => ({ api: source.for, id })),
      this.scope,
    );
  }

  #restLoader(source: HuntingSource): DataLoader<string, unknown, string> {
    const loader = this.rest.get(source.for);
    if (!loader) throw new Error(`no loader for ${source.for}`);
    return loader;
  }

  async #logonUsers(machineIds: readonly string[], statistics: boolean): Promise<unknown[]> {
    const accounts = await huntLogonUsers(this.client, machineIds, this.scope);
    let stats: Map<string, HuntedUserStatistics> | undefined;
    if (statistics) {
      const names = [...new Set([...accounts.values()].flat().map((a) => a.accountName.toLowerCase()))];
      const sendable = names.filter(isAccountName);
      // An account hunting cannot be asked about has no statistics: the level is answered by REST instead.
      if (sendable.length !== names.length) throw new Error('an account name hunting cannot be sent');
      stats = sendable.length > 0 ? await huntUserStatistics(this.client, sendable, this.scope) : new Map();
    }
    return machineIds.map((id) => {
      const group = accounts.get(id) ?? [];
      if (!stats) return huntedUsers(group);
      return group.map((a) => {
        const s = stats.get(accountKey(a.accountDomain, a.accountName));
        if (!s) throw new Error('an account without statistics');
        const { accountSid: _, ...rest } = s;
        return { ...huntedUser(a), ...rest };
      });
    });
  }

  async #userMachines(names: readonly string[]): Promise<unknown[]> {
    const machines = await huntUserMachines(this.client, names, this.scope);
    return names.map((name) => huntedMachineRefs(machines.get(name.toLowerCase()) ?? []));
  }

  /** The level by its REST route, one call per parent (the loader dedupes), reported as such. */
  async #byRest(
    source: HuntingSource,
    path: string,
    keys: readonly string[],
    fallback?: string,
  ): Promise<unknown[]> {
    const loader = this.#restLoader(source);
    const before = this.scope.stats.byApi[source.for]?.calls ?? 0;
    const answers = await loader.loadMany(keys);
    this.levels.push({
      path,
      source: 'rest',
      calls: (this.scope.stats.byApi[source.for]?.calls ?? 0) - before,
      ...(fallback && { fallback }),
    });
    return answers;
  }
}

/** A level's plan and which of its parents' REST answers are cached. */
interface LevelChoice {
  readonly plan: 'hunting' | 'rest';
  readonly cached: readonly boolean[];
  readonly uncached: readonly string[];
}

/** Defender matches account names case-insensitively: one account is one parent. */
function caseInsensitive(source: HuntingSource): boolean {
  return source.for === 'users/{id}/machines';
}

/**
 * The parents a hunted answer gives the next level, made once per account or machine of an answer: an answer
 * read again from the in-process cache is the same objects (hunting.ts), so its parents are too. Nothing mutates
 * a parent.
 */
const usersOf = new WeakMap<HuntedAccount, object>();
const machinesOf = new WeakMap<HuntedMachine, HuntedMachineRef>();
const usersOfGroup = new WeakMap<readonly HuntedAccount[], readonly object[]>();
const machinesOfGroup = new WeakMap<readonly HuntedMachine[], readonly HuntedMachineRef[]>();

/** One parent's hunted accounts as users, made once per group of an answer (and so the same list each time). */
function huntedUsers(group: readonly HuntedAccount[]): readonly object[] {
  let users = usersOfGroup.get(group);
  if (!users) usersOfGroup.set(group, (users = group.map(huntedUser)));
  return users;
}

/** One parent's hunted machines as parents of the next level, made once per group of an answer. */
function huntedMachineRefs(group: readonly HuntedMachine[]): readonly HuntedMachineRef[] {
  let refs = machinesOfGroup.get(group);
  if (!refs) machinesOfGroup.set(group, (refs = group.map(huntedMachineRef)));
  return refs;
}

function huntedUser(a: HuntedAccount): object {
  let user = usersOf.get(a);
  if (!user) {
    user = {
      id: `${a.accountDomain}\\${a.accountName}`,
      accountName: a.accountName,
      accountDomain: a.accountDomain,
      accountSid: a.accountSid,
    };
    usersOf.set(a, user);
  }
  return user;
}

function huntedMachineRef(m: HuntedMachine): HuntedMachineRef {
  let ref = machinesOf.get(m);
  if (!ref) {
    ref = { [PARTIAL]: 'huntedRef', id: m.id, computerDnsName: m.computerDnsName };
    machinesOf.set(m, ref);
  }
  return ref;
}
