/**
 * Alerts changing after the tenant was generated: Defender's writes (`PATCH /api/alerts/{id}`,
 * `batchUpdate`), the simulator's own admin changes, and the background changes of a demo. Every change moves
 * `lastUpdateTime` to a time later than every earlier change (`change-clock.ts`), so that a poll of
 * `lastUpdateTime gt <watermark>` (`docs/defender-api.md` §10) finds exactly what changed since.
 */

import type {
  AlertClassification,
  AlertDetermination,
  AlertDto,
  AlertSeverity,
  AlertStatus,
  InvestigationState,
  MachineDto,
  UserDto,
} from '../defender/types.js';
import type { FieldRules, FieldValues } from './alert-fields.js';
import {
  ALERT_STATUSES,
  CLASSIFICATIONS,
  DETERMINATIONS,
  INVESTIGATION_STATES,
  SEVERITIES,
  readFields,
} from './alert-fields.js';
import type { SimulatorClock } from './change-clock.js';
import { MAX_ALERT_CHANGES_PER_MINUTE } from './config.js';
import { ChangeClock } from './change-clock.js';
import type { Tenant } from './data.js';
import { BEHAVIOURS } from './data-alert-catalog.js';
import { detectorId, riskScoreOf } from './data-alerts.js';
import { blank } from './data-evidence.js';
import type { OsFamily } from './data-machines.js';
import { OS_PROFILES } from './data-os.js';
import { Random } from './data-random.js';
import { MINUTE, SECOND } from './data-time.js';

/** What one change sets on an alert; absent properties keep their values. */
export interface AlertChange {
  readonly status?: AlertStatus;
  readonly assignedTo?: string | null;
  readonly classification?: AlertClassification | null;
  readonly determination?: AlertDetermination | null;
  readonly severity?: AlertSeverity;
  readonly title?: string;
  readonly description?: string;
  readonly category?: string;
  readonly investigationState?: InvestigationState | null;
  /** Appended to `comments` with the change's author and time. */
  readonly comment?: string;
}

/** The simulator's own change to an alert (admin route, `Simulator.updateAlert`): any triage field. */
export interface AlertEdit extends AlertChange {
  /** The `createdBy` of `comment`. Default `Automation`. */
  readonly author?: string;
}

/** An alert to create (admin route, `Simulator.createAlert`); what is left out comes from a detection template. */
export interface NewAlert extends AlertEdit {
  /** The machine (40-hex id) it is raised on. Required. */
  readonly machineId: string;
  /** Its related user, `domain\name` or an account name of the tenant. Default none. */
  readonly user?: string;
  readonly detectionSource?: string;
  readonly mitreTechniques?: readonly string[];
  readonly threatName?: string | null;
  readonly threatFamilyName?: string | null;
}

/** A change the simulator refuses (unknown machine, user or alert; a bad value): the message says which. */
export class AlertChangeError extends Error {
  override readonly name = 'AlertChangeError';
  constructor(
    message: string,
    /** 404 when the alert, machine or user does not exist, else 400. */
    readonly status: 400 | 404,
  ) {
    super(message);
  }
}

const EDIT_RULES: FieldRules = {
  status: { kind: 'enum', values: ALERT_STATUSES },
  assignedTo: { kind: 'string', nullable: true },
  classification: { kind: 'enum', values: CLASSIFICATIONS, nullable: true },
  determination: { kind: 'enum', values: DETERMINATIONS, nullable: true },
  severity: { kind: 'enum', values: SEVERITIES },
  title: { kind: 'string', nonEmpty: true },
  description: { kind: 'string' },
  category: { kind: 'string', nonEmpty: true },
  investigationState: { kind: 'enum', values: INVESTIGATION_STATES, nullable: true },
  comment: { kind: 'string', nonEmpty: true },
  author: { kind: 'string', nonEmpty: true },
};
const EDITABLE = Object.keys(EDIT_RULES).filter((k) => k !== 'author');
const NEW_RULES: FieldRules = {
  machineId: { kind: 'string', nonEmpty: true },
  user: { kind: 'string', nonEmpty: true },
  detectionSource: { kind: 'string', nonEmpty: true },
  mitreTechniques: { kind: 'stringList' },
  threatName: { kind: 'string', nullable: true },
  threatFamilyName: { kind: 'string', nullable: true },
  ...EDIT_RULES,
};
const AUTOMATION = 'Automation';
const FAMILY_OF_PLATFORM = new Map(OS_PROFILES.map(([p]) => [p.platform.toLowerCase(), p.family]));
const COMMENTS = ['Investigating.', 'Contacted the user.', 'Escalated to incident response.', 'Closing.'];
const DETERMINATIONS_OF: Readonly<Record<AlertClassification, readonly AlertDetermination[]>> = {
  TruePositive: ['Malware', 'MaliciousUserActivity', 'CompromisedUser', 'MultiStagedAttack', 'Phishing'],
  InformationalExpectedActivity: ['SecurityTesting', 'LineOfBusinessApplication', 'ConfirmedUserActivity'],
  FalsePositive: ['Clean', 'InsufficientData', 'Other'],
};

/** The alerts' mutable side: one per simulator, holding its clock and the seeded choices of its changes. */
export class AlertChanges {
  readonly clock: ChangeClock;
  readonly #tenant: Tenant;
  readonly #rng: Random;
  #nextIncident: number;

  constructor(tenant: Tenant, clock: SimulatorClock) {
    this.#tenant = tenant;
    this.clock = new ChangeClock(tenant.now.getTime(), clock);
    // Its own stream, so that changes never disturb (or depend on) the generated tenant.
    this.#rng = new Random(tenant.seed + 0x9e3779b9);
    this.#nextIncident = Math.max(0, ...tenant.alerts.map((a) => a.incidentId ?? 0)) + 1;
  }

  /**
   * Applies one change to these alerts at one time, as one Defender write does: `lastUpdateTime` moves to
   * now, `resolvedTime` is set when the status becomes `Resolved` (cleared when it leaves it), a comment is
   * appended with `author` and now, and each machine's `riskScore` follows its open alerts.
   */
  apply(alerts: readonly AlertDto[], change: AlertChange, author: string): void {
    const time = this.clock.format(this.clock.stamp());
    for (const alert of alerts) {
      if (change.status !== undefined && change.status !== alert.status) {
        alert.resolvedTime = change.status === 'Resolved' ? time : null;
        alert.status = change.status;
      }
      if (change.assignedTo !== undefined) alert.assignedTo = change.assignedTo;
      if (change.classification !== undefined) alert.classification = change.classification;
      if (change.determination !== undefined) alert.determination = change.determination;
      if (change.severity !== undefined) alert.severity = change.severity;
      if (change.title !== undefined) alert.title = change.title;
      if (change.description !== undefined) alert.description = change.description;
      if (change.category !== undefined) alert.category = change.category;
      if (change.investigationState !== undefined) alert.investigationState = change.investigationState;
      if (change.comment !== undefined) {
        alert.comments.push({ comment: change.comment, createdBy: author, createdTime: time });
      }
      alert.lastUpdateTime = time;
    }
    for (const machineId of new Set(alerts.map((a) => a.machineId))) this.#rescore(machineId);
  }

  /** The simulator's own update of one alert; `edit` is checked as the admin route checks its body. */
  update(id: string, edit: AlertEdit): AlertDto {
    const values = checked(edit, EDIT_RULES, EDITABLE);
    const alert = this.#tenant.alertById(id);
    if (!alert) throw new AlertChangeError(`Alert ${id} was not found`, 404);
    this.apply([alert], values as AlertChange, (values['author'] as string | undefined) ?? AUTOMATION);
    return alert;
  }

  /**
   * Creates an alert on a machine, now: a new id in Defender's form (`da` + the .NET ticks of its creation
   * + `_` + an int32), a new incident, `alertCreationTime` = `lastUpdateTime` = now. What `input` leaves
   * out comes from a detection template of the machine's OS, chosen from the seed.
   */
  create(input: NewAlert): AlertDto {
    const values = checked(input, NEW_RULES);
    const text = (name: string) => values[name] as string | undefined;
    if (text('machineId') === undefined) throw new AlertChangeError("Property 'machineId' is required.", 400);
    const machine = this.#tenant.machineById(text('machineId')!.toLowerCase());
    if (!machine) throw new AlertChangeError(`Machine ${text('machineId')!} was not found`, 404);
    const userName = text('user');
    const user =
      userName === undefined
        ? undefined
        : (this.#tenant.userById(userName) ?? this.#tenant.usersByAccountName(userName)[0]);
    if (userName !== undefined && !user) throw new AlertChangeError(`User ${userName} was not found`, 404);
    return this.#create(machine, user ?? null, values);
  }

  /**
   * Makes `perMinute` background changes a minute (`randomChange`) until the returned function is called;
   * 0 makes none. The timer does not keep the process alive.
   */
  startBackground(perMinute: number, available: (machine: MachineDto) => boolean): () => void {
    if (!(perMinute >= 0 && perMinute <= MAX_ALERT_CHANGES_PER_MINUTE)) {
      throw new Error(
        `alertChangesPerMinute must be in [0, ${MAX_ALERT_CHANGES_PER_MINUTE}], got ${perMinute}`,
      );
    }
    if (perMinute === 0) return () => {};
    const timer = setInterval(() => this.randomChange(available), 60_000 / perMinute).unref();
    return () => clearInterval(timer);
  }

  /**
   * One background change, chosen from the seed: a new alert on an onboarded machine that `available`
   * accepts, or the next triage step of an open alert (assigned and in progress, then resolved and
   * classified), or a comment. Returns the alert it created or changed.
   */
  randomChange(available: (machine: MachineDto) => boolean = () => true): AlertDto {
    const rng = this.#rng;
    const kind = rng.weighted<'create' | 'advance' | 'comment'>([
      ['create', 35],
      ['advance', 50],
      ['comment', 15],
    ]);
    const open = this.#tenant.alerts.filter((a) => a.status === 'New' || a.status === 'InProgress');
    if (kind === 'create' || open.length === 0) {
      const machines = this.#tenant.machines.filter(
        (m) => m.onboardingStatus === 'Onboarded' && available(m),
      );
      const machine = rng.pick(machines.length > 0 ? machines : this.#tenant.machines);
      const users = this.#tenant.logonUsers(machine.id);
      const user = users.length > 0 && rng.chance(0.8) ? users[0]! : null;
      return this.#create(machine, user, {});
    }
    const alert = rng.pick(open);
    const analyst = rng.pick(this.#analysts());
    if (kind === 'comment') {
      this.apply([alert], { comment: rng.pick(COMMENTS) }, alert.assignedTo ?? analyst);
    } else if (alert.status === 'New') {
      this.apply([alert], { status: 'InProgress', assignedTo: alert.assignedTo ?? analyst }, analyst);
    } else {
      const classification = rng.pick(CLASSIFICATIONS);
      const determination = rng.pick(DETERMINATIONS_OF[classification]);
      this.apply([alert], { status: 'Resolved', classification, determination }, analyst);
    }
    return alert;
  }

  #create(machine: MachineDto, user: UserDto | null, v: FieldValues): AlertDto {
    const rng = this.#rng;
    const family: OsFamily = FAMILY_OF_PLATFORM.get(machine.osPlatform?.toLowerCase() ?? '') ?? 'windows';
    const templates = BEHAVIOURS.filter((b) => b.families.includes(family));
    const template = rng.weighted(templates.map((b) => [b, b.weight] as const));
    const created = this.clock.stamp();
    const lastEvent = created - rng.int(30 * SECOND, 20 * MINUTE);
    const time = this.clock.format(created);
    let id = `da${this.clock.dotNetTicks(created)}_${rng.int32()}`;
    while (this.#tenant.alertById(id)) id = `da${this.clock.dotNetTicks(created)}_${rng.int32()}`;
    const incidentId = this.#nextIncident;
    this.#nextIncident += rng.int(1, 4);
    const status = (v['status'] as AlertStatus | undefined) ?? 'New';
    const title = (v['title'] as string | undefined) ?? template.title;
    const related = user && { userName: user.accountName, domainName: user.accountDomain };
    const alert: AlertDto = {
      id,
      incidentId,
      investigationId: null,
      assignedTo: pick(v, 'assignedTo', null),
      severity: pick(v, 'severity', template.severity),
      status,
      classification: pick(v, 'classification', null),
      determination: pick(v, 'determination', null),
      investigationState: pick(
        v,
        'investigationState',
        family === 'windows' ? 'UnsupportedAlertType' : 'UnsupportedOs',
      ),
      detectionSource: pick(v, 'detectionSource', template.detectionSource),
      detectorId: detectorId(title),
      category: pick(v, 'category', template.category),
      threatFamilyName: pick(v, 'threatFamilyName', null),
      title,
      description: pick(v, 'description', template.description),
      alertCreationTime: time,
      firstEventTime: this.clock.format(lastEvent),
      lastEventTime: this.clock.format(lastEvent),
      lastUpdateTime: time,
      resolvedTime: status === 'Resolved' ? time : null,
      machineId: machine.id,
      computerDnsName: machine.computerDnsName,
      rbacGroupName: machine.rbacGroupName,
      aadTenantId: this.#tenant.tenantId,
      threatName: pick(v, 'threatName', null),
      mitreTechniques: [...pick<readonly string[]>(v, 'mitreTechniques', template.mitreTechniques)],
      relatedUser: related,
      loggedOnUsers: related ? [{ accountName: related.userName, domainName: related.domainName }] : [],
      comments:
        v['comment'] === undefined
          ? []
          : [
              {
                comment: v['comment'] as string,
                createdBy: pick(v, 'author', AUTOMATION),
                createdTime: time,
              },
            ],
      evidence: related
        ? [
            {
              ...blank('User', time),
              accountName: related.userName,
              domainName: related.domainName,
              userSid: user!.accountSid,
            },
          ]
        : [],
      domains: [],
    };
    this.#tenant.addAlert(alert);
    this.#rescore(machine.id);
    return alert;
  }

  /** Defender derives a machine's risk from its open alerts, so a change to one can move it. */
  #rescore(machineId: string): void {
    const machine = this.#tenant.machineById(machineId);
    if (machine) machine.riskScore = riskScoreOf(this.#tenant.alertsOfMachine(machineId));
  }

  /** The people who triage in this tenant: the UPNs alerts are assigned to, in a fixed order. */
  #analysts(): string[] {
    const upns = new Set<string>();
    for (const alert of this.#tenant.alerts) if (alert.assignedTo?.includes('@')) upns.add(alert.assignedTo);
    return upns.size > 0 ? [...upns].sort() : ['secop@contoso.com'];
  }
}

/** Checks an in-process input exactly as the admin route checks a JSON body. */
function checked(input: object, rules: FieldRules, atLeastOne?: readonly string[]): FieldValues {
  const result = readFields(JSON.stringify(input) ?? '', rules, atLeastOne ? { atLeastOne } : {});
  if ('error' in result) throw new AlertChangeError(result.error.message, 400);
  return result.values;
}

function pick<T>(values: FieldValues, name: string, fallback: T): T {
  return name in values ? (values[name] as T) : fallback;
}
