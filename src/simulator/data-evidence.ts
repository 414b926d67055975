import type { AlertEvidenceDto } from '../defender/types.js';
import type { OsFamily } from './data-machines.js';
import type { Random } from './data-random.js';
import type { Clock, Ticks } from './data-time.js';
import { DAY, SECOND } from './data-time.js';
import type { UserDraft } from './data-users.js';

/** What one alert's evidence is about, with placeholders already filled in. */
export interface EvidenceSubject {
  readonly family: OsFamily;
  /** When the alert was created; evidence is stamped with it. */
  readonly created: Ticks;
  /** When the first event happened; the process started just before. */
  readonly firstEvent: Ticks;
  readonly process: { readonly image: string; readonly commandLine: string; readonly parent: string } | null;
  readonly file: string | null;
  /** The process that wrote or opened `file`, shown when there is no `process`. */
  readonly fileParent: string | null;
  readonly ip: string | null;
  readonly user: UserDraft | null;
  /** `Detected`, `Blocked` or `Prevented`: what the sensor did about the file or process. */
  readonly detectionStatus: string;
}

/**
 * Builds 1–4 evidence items. Hashes are remembered per path, so a system binary such as powershell.exe
 * has the same hashes in every alert of the tenant, as it would in a real one.
 */
export class EvidenceFactory {
  readonly #hashes = new Map<string, { sha1: string; sha256: string }>();

  constructor(
    private readonly rng: Random,
    private readonly clock: Clock,
  ) {}

  build(subject: EvidenceSubject): AlertEvidenceDto[] {
    const { rng } = this;
    const items: AlertEvidenceDto[] = [];
    const stamp = this.clock.ticksTime(subject.created);
    if (subject.process) items.push(this.#process(subject, stamp));
    else if (subject.fileParent && subject.file && rng.chance(0.5))
      items.push(this.#parentOfFile(subject, stamp));
    if (subject.file) items.push(this.#file(subject.file, subject.detectionStatus, stamp));
    if (subject.ip) items.push({ ...blank('Ip', stamp), ipAddress: subject.ip });
    if (subject.user && (items.length === 0 || rng.chance(0.7)))
      items.push(userEvidence(subject.user, stamp));
    return items.slice(0, 4);
  }

  #process(subject: EvidenceSubject, stamp: string): AlertEvidenceDto {
    const { rng } = this;
    const process = subject.process!;
    const started = subject.firstEvent - rng.int(0, 5 * SECOND);
    const parent = splitPath(process.parent);
    return {
      ...this.#file(process.image, subject.detectionStatus, stamp, 'Process'),
      processId: processId(rng, subject.family),
      processCommandLine: process.commandLine,
      processCreationTime: this.clock.ticksTime(started),
      parentProcessId: processId(rng, subject.family),
      parentProcessCreationTime: this.clock.ticksTime(started - rng.int(1 * SECOND, 3 * DAY)),
      parentProcessFileName: parent.name,
      parentProcessFilePath: parent.folder,
    };
  }

  /** Antivirus alerts may show the process that dropped the file instead of one that ran it. */
  #parentOfFile(subject: EvidenceSubject, stamp: string): AlertEvidenceDto {
    const { rng } = this;
    const started = subject.firstEvent - rng.int(1 * SECOND, 2 * DAY);
    return {
      ...this.#file(subject.fileParent!, null, stamp, 'Process'),
      processId: processId(rng, subject.family),
      processCreationTime: this.clock.ticksTime(started),
    };
  }

  #file(path: string, detectionStatus: string | null, stamp: string, entityType = 'File'): AlertEvidenceDto {
    const { name, folder } = splitPath(path);
    const { sha1, sha256 } = this.#hashesOf(path);
    return { ...blank(entityType, stamp), sha1, sha256, fileName: name, filePath: folder, detectionStatus };
  }

  #hashesOf(path: string): { sha1: string; sha256: string } {
    const key = path.toLowerCase();
    let hashes = this.#hashes.get(key);
    if (!hashes) {
      hashes = { sha1: this.rng.hex(40), sha256: this.rng.hex(64) };
      this.#hashes.set(key, hashes);
    }
    return hashes;
  }
}

function userEvidence(user: UserDraft, stamp: string): AlertEvidenceDto {
  return {
    ...blank('User', stamp),
    accountName: user.accountName,
    domainName: user.accountDomain,
    userSid: user.sid,
    aadUserId: user.aadUserId,
    userPrincipalName: user.upn,
  };
}

/** Every evidence key, in wire order, null: Defender sends the keys an entity type does not use as null. */
export function blank(entityType: string, evidenceCreationTime: string): AlertEvidenceDto {
  return {
    entityType,
    evidenceCreationTime,
    sha1: null,
    sha256: null,
    fileName: null,
    filePath: null,
    processId: null,
    processCommandLine: null,
    processCreationTime: null,
    parentProcessId: null,
    parentProcessCreationTime: null,
    parentProcessFileName: null,
    parentProcessFilePath: null,
    ipAddress: null,
    url: null,
    registryKey: null,
    registryHive: null,
    registryValueType: null,
    registryValue: null,
    registryValueName: null,
    accountName: null,
    domainName: null,
    userSid: null,
    aadUserId: null,
    userPrincipalName: null,
    detectionStatus: null,
  };
}

/** Defender reports a file as its folder (`filePath`) and its name (`fileName`). */
function splitPath(path: string): { folder: string; name: string } {
  const cut = Math.max(path.lastIndexOf('\\'), path.lastIndexOf('/'));
  return { folder: path.slice(0, Math.max(cut, 0)), name: path.slice(cut + 1) };
}

/** Windows process ids are multiples of 4. */
function processId(rng: Random, family: OsFamily): number {
  return family === 'windows' ? rng.int(100, 12_000) * 4 : rng.int(300, 65_000);
}
