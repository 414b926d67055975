import DataLoader from 'dataloader';
import type { DefenderApi } from '../defender/apis.js';
import type { CallScope, DefenderClient } from '../defender/client.js';
import {
  getAlertsByIds,
  getMachinesByNames,
  getMachinesByIds,
  getMany,
  getOne,
} from '../defender/resources.js';
import type { AlertDto, MachineDto } from '../defender/types.js';
import type { PerParentSource } from './sources.js';
import { perParentSources } from './sources.js';
import { withinCap } from './cap.js';

/** One DataLoader per upstream route, created per request so nothing is shared across callers. */
export interface Loaders {
  readonly machineById: DataLoader<string, MachineDto | null>;
  readonly machineByName: DataLoader<string, MachineDto | null>;
  readonly alertById: DataLoader<string, AlertDto | null>;
  /**
   * One loader per per-parent route of the source table (sources.ts), answering what the table says: an
   * entity or null, or a list. Keys the table calls case-insensitive (account names) are deduplicated lower-cased.
   */
  readonly perParent: PerParentLoaders;
  /** Alerts from routes that leave `evidence` empty (the table's `listed` alerts). */
  readonly evidenceOmitted: WeakSet<AlertDto>;
}

/** The per-parent routes' loaders, each made at its first use: most operations use one or two of them. */
export interface PerParentLoaders {
  get(api: DefenderApi): DataLoader<string, unknown, string> | undefined;
}

/** The per-parent routes of the source table, found once. */
const PER_PARENT_SOURCES: ReadonlyMap<DefenderApi, PerParentSource> = new Map(
  perParentSources().map((source) => [source.api, source]),
);

export function createLoaders(
  client: DefenderClient,
  scope: CallScope,
  batchSize: number,
  onCut?: () => void,
): Loaders {
  /**
   * A loader for entities that batch into `$filter=id in (…)` calls. A failed call fails only the keys it was
   * for (the lookup puts its error in their slots), so one failed item never nulls a sibling; anything that
   * fails the whole batch fails each key.
   */
  const batched = <V>(load: (keys: readonly string[]) => Promise<(V | Error)[]>) =>
    new DataLoader<string, V>((keys) => load(keys).catch((error: unknown) => keys.map(() => toError(error))));
  const evidenceOmitted = new WeakSet<AlertDto>();
  const made = new Map<DefenderApi, DataLoader<string, unknown, string>>();
  const perParent: PerParentLoaders = {
    get(api) {
      let loader = made.get(api);
      const source = PER_PARENT_SOURCES.get(api);
      if (!loader && source) {
        loader = perParentLoader(client, scope, source, evidenceOmitted, onCut);
        made.set(api, loader);
      }
      return loader;
    },
  };

  return {
    machineById: batched((ids) => getMachinesByIds(client, ids, batchSize, scope)),
    machineByName: new DataLoader<string, MachineDto | null, string>(
      (names) =>
        getMachinesByNames(client, names, batchSize, scope).catch((error: unknown) =>
          names.map(() => toError(error)),
        ),
      { cacheKeyFn: lower },
    ),
    alertById: batched((ids) => getAlertsByIds(client, ids, batchSize, scope)),
    perParent,
    evidenceOmitted,
  };
}

/**
 * A route that takes one key per call: DataLoader still dedupes keys within the request. A batch is one
 * fan-out level: it runs only when its calls fit in what is left of the operation's cap (cap.ts).
 */
function perParentLoader(
  client: DefenderClient,
  scope: CallScope,
  source: PerParentSource,
  evidenceOmitted: WeakSet<AlertDto>,
  onCut?: () => void,
): DataLoader<string, unknown, string> {
  const load = async (id: string): Promise<unknown> => {
    const request = { api: source.api, id };
    if (source.answers === 'one') return getOne(client, request, scope);
    const items = await getMany(client, request, scope, source.primes);
    if (source.yields === 'listed') for (const alert of items as AlertDto[]) evidenceOmitted.add(alert);
    return items;
  };
  return new DataLoader<string, unknown, string>(
    (keys) =>
      withinCap(
        client,
        scope,
        keys.map((id) => ({ api: source.api, id })),
        () => Promise.all(keys.map((key) => load(key).catch((error: unknown) => toError(error)))),
        onCut,
      ).catch((error: unknown) => keys.map(() => toError(error))),
    source.caseInsensitive ? { cacheKeyFn: lower } : {},
  );
}

function lower(key: string): string {
  return key.toLowerCase();
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
