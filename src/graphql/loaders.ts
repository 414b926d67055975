import DataLoader from 'dataloader';
import type { CallScope, DefenderClient } from '../defender/client.js';
import {
  getAlertUser,
  getAlertsByIds,
  getMachinesByNames,
  getMachineAlerts,
  getMachineLogonUsers,
  getMachinesByIds,
  getUserAlerts,
  getUserMachines,
} from '../defender/resources.js';
import type { AlertDto, MachineDto, UserDto } from '../defender/types.js';

/** One DataLoader per upstream route, created per request so nothing is shared across callers. */
export interface Loaders {
  readonly machineById: DataLoader<string, MachineDto | null>;
  readonly machineByName: DataLoader<string, MachineDto | null>;
  readonly alertById: DataLoader<string, AlertDto | null>;
  readonly alertUser: DataLoader<string, UserDto | null>;
  readonly machineLogonUsers: DataLoader<string, UserDto[]>;
  readonly machineAlerts: DataLoader<string, AlertDto[]>;
  /** Keyed by account name; Defender matches names case-insensitively, so keys are lower-cased. */
  readonly userMachines: DataLoader<string, MachineDto[], string>;
  readonly userAlerts: DataLoader<string, AlertDto[], string>;
  /** Alerts from routes that leave `evidence` empty (`machines/{id}/alerts`, `users/{id}/alerts`). */
  readonly evidenceOmitted: WeakSet<AlertDto>;
}

export function createLoaders(client: DefenderClient, scope: CallScope, batchSize: number): Loaders {
  /** A loader for a route that takes one key per call: DataLoader still dedupes keys within the request. */
  const perKey = <V>(load: (key: string) => Promise<V>, cacheKeyFn?: (key: string) => string) =>
    new DataLoader<string, V, string>(
      (keys) => Promise.all(keys.map((key) => load(key).catch((error: unknown) => toError(error)))),
      cacheKeyFn ? { cacheKeyFn } : {},
    );
  /** A loader for entities that batch into `$filter=id in (…)` calls; a failed batch fails each key. */
  const batched = <V>(load: (keys: readonly string[]) => Promise<V[]>) =>
    new DataLoader<string, V>((keys) => load(keys).catch((error: unknown) => keys.map(() => toError(error))));
  const lower = (key: string) => key.toLowerCase();
  const evidenceOmitted = new WeakSet<AlertDto>();
  const markEvidenceOmitted = (alerts: AlertDto[]) => {
    for (const alert of alerts) evidenceOmitted.add(alert);
    return alerts;
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
    alertUser: perKey((id) => getAlertUser(client, id, scope)),
    machineLogonUsers: perKey((id) => getMachineLogonUsers(client, id, scope)),
    machineAlerts: perKey((id) => getMachineAlerts(client, id, scope).then(markEvidenceOmitted)),
    userMachines: perKey((name) => getUserMachines(client, name, scope), lower),
    userAlerts: perKey((name) => getUserAlerts(client, name, scope).then(markEvidenceOmitted), lower),
    evidenceOmitted,
  };
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
