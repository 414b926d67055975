import type { AlertDto, AlertSeverity, DetectionSource, RiskScore } from '../defender/types.js';
import type { BehaviourTemplate, Threat } from './data-alert-catalog.js';
import { BEHAVIOURS, THREATS } from './data-alert-catalog.js';
import {
  INVESTIGATED,
  assignee,
  classificationOf,
  comments,
  determinationOf,
  investigationStateOf,
  statusOf,
  updateTimes,
} from './data-alert-triage.js';
import { EvidenceFactory } from './data-evidence.js';
import type { MachineDraft, OsFamily } from './data-machines.js';
import type { Organisation } from './data-org.js';
import { publicIp } from './data-org.js';
import type { Random } from './data-random.js';
import type { Clock, Ticks } from './data-time.js';
import { DAY, HOUR, MINUTE, SECOND } from './data-time.js';
import type { UserDraft } from './data-users.js';

/** An alert while the tenant is being built, with what later steps need and the wire DTO does not carry. */
export interface AlertDraft {
  readonly dto: AlertDto;
  readonly machine: MachineDraft;
  readonly user: UserDraft | null;
  readonly created: Ticks;
  readonly firstEvent: Ticks;
  readonly lastEvent: Ticks;
  /** Whether an automated investigation ran, which gives the alert an investigationId. */
  readonly investigated: boolean;
}

interface AlertContext {
  readonly rng: Random;
  readonly clock: Clock;
  readonly org: Organisation;
  readonly tenantId: string;
  readonly evidence: EvidenceFactory;
  readonly ids: Set<string>;
}

/** What a detection is, whether it came from a behaviour template or an antivirus threat. */
interface Detection {
  readonly title: string;
  readonly description: string;
  readonly category: string;
  readonly severity: AlertSeverity;
  readonly detectionSource: DetectionSource;
  readonly mitreTechniques: readonly string[];
  readonly threat: Threat | null;
  readonly behaviour: BehaviourTemplate | null;
  readonly test: boolean;
  /** Antivirus stopped it before it ran. */
  readonly prevented: boolean;
}

/** A window in which a machine can have raised an alert: onboarded, reporting, within the last 90 days. */
interface AlertWindow {
  readonly machine: MachineDraft;
  readonly from: Ticks;
  readonly to: Ticks;
}

const RETENTION = 90 * DAY;
/** Detection takes a while, so nothing in the tenant is created in its last minutes. */
const LATEST = -10 * MINUTE;
const SEVERITY_ORDER: readonly AlertSeverity[] = ['UnSpecified', 'Informational', 'Low', 'Medium', 'High'];
const FAMILIES: readonly OsFamily[] = ['windows', 'linux', 'macos'];
const THREATS_OF = new Map(
  FAMILIES.map((f) => [f, THREATS.filter((t) => t.families.includes(f)).map((t) => [t, t.weight] as const)]),
);
const BEHAVIOURS_OF = new Map(
  FAMILIES.map((f) => [
    f,
    BEHAVIOURS.filter((b) => b.families.includes(f)).map((b) => [b, b.weight] as const),
  ]),
);

/**
 * Alerts on onboarded machines within the last 90 days, in creation order, with incident and investigation
 * ids numbered in that order. Each names, or not, a user who logged on to its machine.
 */
export function createAlerts(
  count: number,
  rng: Random,
  clock: Clock,
  org: Organisation,
  tenantId: string,
  machines: readonly MachineDraft[],
): AlertDraft[] {
  const ctx: AlertContext = {
    rng,
    clock,
    org,
    tenantId,
    evidence: new EvidenceFactory(rng, clock),
    ids: new Set(),
  };
  const windows = alertWindows(rng, machines);
  const drafts: AlertDraft[] = [];
  const latest = new Map<MachineDraft, Ticks>();
  for (let i = 0; i < count; i++) {
    // A few machines raise many alerts and most raise few, as in a real tenant.
    const window = windows[Math.floor(windows.length * rng.float() ** 1.4)]!;
    // Attacks raise several alerts within hours, which then share an incident.
    const near = latest.get(window.machine);
    const created =
      near !== undefined && rng.chance(0.4)
        ? Math.min(window.to, Math.max(window.from, near + rng.int(-3 * HOUR, 6 * HOUR)))
        : rng.int(window.from, window.to);
    latest.set(window.machine, created);
    drafts.push(createAlert(ctx, window.machine, created));
  }
  drafts.sort((a, b) => a.created - b.created || (a.dto.id < b.dto.id ? -1 : 1));
  groupIntoIncidents(rng, drafts);
  return drafts;
}

/** Machines that can have alerts, in random order; all machines if none is onboarded and reporting. */
function alertWindows(rng: Random, machines: readonly MachineDraft[]): AlertWindow[] {
  const open = (m: MachineDraft): AlertWindow => ({
    machine: m,
    from: Math.max(-RETENTION, m.firstSeen),
    to: Math.min(LATEST, m.lastSeen + DAY),
  });
  let windows = machines.filter((m) => m.onboarded).map(open);
  windows = windows.filter((w) => w.to - w.from > HOUR);
  if (windows.length === 0) {
    windows = machines.map((m) => {
      const w = open(m);
      return { machine: m, from: Math.min(w.from, LATEST - HOUR), to: LATEST };
    });
  }
  return rng.sample(windows, windows.length);
}

function createAlert(ctx: AlertContext, machine: MachineDraft, created: Ticks): AlertDraft {
  const { rng, clock } = ctx;
  const detection = detect(rng, machine.family);
  const lastEvent = created - rng.int(30 * SECOND, 20 * MINUTE);
  const span = detection.threat || rng.chance(0.4) ? 0 : rng.int(1 * SECOND, 3 * HOUR);
  const firstEvent = lastEvent - span < machine.firstSeen ? lastEvent : lastEvent - span;
  const status = statusOf(rng, created);
  const { lastUpdate, resolved } = updateTimes(rng, status, created);
  const user = relatedUser(rng, machine);
  const classification = classificationOf(rng, status, detection);
  const investigationState = investigationStateOf(rng, machine.family, status, detection.detectionSource);
  const assignedTo = assignee(rng, ctx.org, status, detection.detectionSource);
  const vars = new Placeholders(rng, user ?? machine.users[0] ?? null);
  const dto: AlertDto = {
    id: alertId(ctx, detection.detectionSource, created),
    // Both ids are numbered once all alerts exist, in creation order.
    incidentId: null,
    investigationId: null,
    assignedTo,
    severity: detection.severity,
    status,
    classification,
    determination:
      classification && rng.chance(0.85) ? determinationOf(rng, classification, detection) : null,
    investigationState,
    detectionSource: detection.detectionSource,
    detectorId: detectorId(detection.title),
    category: detection.category,
    threatFamilyName: detection.threat?.family ?? null,
    title: detection.title,
    description: detection.description,
    alertCreationTime: clock.ticksTime(created),
    firstEventTime: clock.ticksTime(firstEvent),
    lastEventTime: clock.ticksTime(lastEvent),
    lastUpdateTime: clock.ticksTime(lastUpdate),
    resolvedTime: resolved === null ? null : clock.ticksTime(resolved),
    machineId: machine.dto.id,
    computerDnsName: machine.dto.computerDnsName,
    rbacGroupName: machine.dto.rbacGroupName,
    aadTenantId: ctx.tenantId,
    threatName: detection.threat?.name ?? null,
    mitreTechniques: [...detection.mitreTechniques],
    relatedUser: user && { userName: user.accountName, domainName: user.accountDomain },
    loggedOnUsers: loggedOnUsers(rng, machine, user).map((u) => ({
      accountName: u.accountName,
      domainName: u.accountDomain,
    })),
    comments: comments(rng, ctx.org, status, assignedTo, created, lastUpdate, clock),
    evidence: ctx.evidence.build({
      family: machine.family,
      created,
      firstEvent,
      process: detection.behaviour?.process
        ? {
            image: vars.fill(detection.behaviour.process.image),
            commandLine: vars.fill(detection.behaviour.process.commandLine),
            parent: vars.fill(detection.behaviour.process.parent),
          }
        : null,
      file: detection.threat ? vars.fill(detection.threat.file) : fillOrNull(vars, detection.behaviour?.file),
      fileParent: detection.threat ? vars.fill(detection.threat.parent) : null,
      ip: detection.behaviour?.remoteIp ? vars.get('ip') : null,
      user,
      detectionStatus: detection.prevented
        ? rng.pick(['Prevented', 'Blocked'])
        : detection.detectionSource === 'CustomerTI'
          ? 'Blocked'
          : 'Detected',
    }),
    domains: [],
  };
  return {
    dto,
    machine,
    user,
    created,
    firstEvent,
    lastEvent,
    investigated: investigationState !== null && INVESTIGATED.has(investigationState),
  };
}

/** About a third of alerts are antivirus detections; the rest come from behaviour templates. */
function detect(rng: Random, family: OsFamily): Detection {
  const threats = THREATS_OF.get(family)!;
  if (threats.length > 0 && rng.chance(0.35)) {
    const threat = rng.weighted(threats);
    const prevented = rng.chance(0.7);
    const severity = prevented && rng.chance(0.6) ? stepDown(threat.severity) : threat.severity;
    const active = !prevented && rng.chance(0.4);
    return {
      title: active
        ? `An active '${threat.family}' ${threat.kind} was detected`
        : `'${threat.family}' ${threat.kind} was ${prevented ? 'prevented' : 'detected'}`,
      description: antivirusDescription(threat.kind, prevented),
      category: threat.category,
      severity,
      detectionSource: 'WindowsDefenderAv',
      mitreTechniques: threat.kind === 'hacktool' ? ['T1003.001'] : [],
      threat,
      behaviour: null,
      test: threat.test === true,
      prevented,
    };
  }
  const behaviour = rng.weighted(BEHAVIOURS_OF.get(family)!);
  const shift = behaviour.test
    ? 0
    : rng.weighted<number>([
        [0, 70],
        [-1, 20],
        [1, 10],
      ]);
  const severity =
    shift < 0 ? stepDown(behaviour.severity) : shift > 0 ? stepUp(behaviour.severity) : behaviour.severity;
  return {
    title: behaviour.title,
    description: behaviour.description,
    category: behaviour.category,
    severity,
    detectionSource: behaviour.detectionSource,
    // Many detections carry no technique at all.
    mitreTechniques: rng.chance(0.1) ? [] : behaviour.mitreTechniques,
    threat: null,
    behaviour,
    test: behaviour.test === true,
    prevented: false,
  };
}

function antivirusDescription(kind: string, prevented: boolean): string {
  const intro =
    'Malware and unwanted software are undesirable applications that perform annoying, disruptive, or harmful actions on affected devices. Some can replicate and spread from one device to another; others receive commands from remote attackers.';
  return prevented
    ? `${intro}\n\nThis detection indicates that the ${kind} was stopped before it could deliver its payload. It is still prudent to check the device for signs of infection.`
    : `${intro}\n\nThe ${kind} was detected on the device and may still be present. Investigate the device and run a full scan.`;
}

function stepDown(severity: AlertSeverity): AlertSeverity {
  return SEVERITY_ORDER[Math.max(1, SEVERITY_ORDER.indexOf(severity) - 1)]!;
}

function stepUp(severity: AlertSeverity): AlertSeverity {
  return SEVERITY_ORDER[Math.min(SEVERITY_ORDER.length - 1, SEVERITY_ORDER.indexOf(severity) + 1)]!;
}

/** Most alerts name a user who logged on to the machine, the machine's main user most often. */
function relatedUser(rng: Random, machine: MachineDraft): UserDraft | null {
  if (machine.users.length === 0 || !rng.chance(0.9)) return null;
  return rng.weighted(
    machine.users.map((u, i) => [u, (u.kind === 'service' ? 0.2 : 1) * (i === 0 ? 3 : 1)] as const),
  );
}

function loggedOnUsers(rng: Random, machine: MachineDraft, user: UserDraft | null): UserDraft[] {
  const others = machine.users.filter((u) => u !== user);
  if (user) return [user, ...rng.sample(others, rng.int(0, 2))];
  return rng.chance(0.5) ? rng.sample(others, 1) : [];
}

/** `da`, or `ar` for automated-investigation alerts, or occasionally nothing; then ticks, `_`, an int32. */
function alertId(ctx: AlertContext, source: DetectionSource, created: Ticks): string {
  const { rng } = ctx;
  const prefix = source === 'AutomatedInvestigation' ? 'ar' : rng.chance(0.04) ? '' : 'da';
  const ticks = ctx.clock.dotNetTicks(created);
  let id = `${prefix}${ticks}_${rng.int32()}`;
  while (ctx.ids.has(id)) id = `${prefix}${ticks}_${rng.int32()}`;
  ctx.ids.add(id);
  return id;
}

const detectorIds = new Map<string, string>();

/** A detector is one detection rule, so its id is derived from the title and is the same in every tenant. */
export function detectorId(title: string): string {
  let id = detectorIds.get(title);
  if (id === undefined) {
    id = hashGuid(title);
    detectorIds.set(title, id);
  }
  return id;
}

function hashGuid(title: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  let hex = '';
  for (let round = 0; hex.length < 32; round++) {
    for (const ch of `${round}:${title}`) {
      h1 = Math.imul(h1 ^ ch.charCodeAt(0), 0x01000193);
      h2 = Math.imul(h2 ^ ch.charCodeAt(0), 0x5bd1e995);
    }
    hex += ((h1 ^ h2) >>> 0).toString(16).padStart(8, '0');
  }
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function fillOrNull(vars: Placeholders, template: string | null | undefined): string | null {
  return template ? vars.fill(template) : null;
}

type PlaceholderName = 'user' | 'rand' | 'b64' | 'ip' | 'n';

/** One alert's placeholder values, drawn when first used so that unused ones cost nothing. */
class Placeholders {
  readonly #values = new Map<PlaceholderName, string>();

  constructor(
    private readonly rng: Random,
    private readonly user: UserDraft | null,
  ) {}

  get(name: PlaceholderName): string {
    let value = this.#values.get(name);
    if (value === undefined) {
      value = this.#draw(name);
      this.#values.set(name, value);
    }
    return value;
  }

  fill(template: string): string {
    return template.includes('{')
      ? template.replace(/\{(user|rand|b64|ip|n)\}/g, (_, name: PlaceholderName) => this.get(name))
      : template;
  }

  #draw(name: PlaceholderName): string {
    const { rng } = this;
    switch (name) {
      case 'user':
        return this.user?.accountName ?? 'Public';
      case 'rand':
        return rng.alnum(8);
      case 'b64':
        // Encoded PowerShell is UTF-16, so it starts like this.
        return `${rng.pick(['JAB', 'SQBFAFgA', 'aQBlAHgA'])}${rng.base64(rng.int(40, 160))}`;
      case 'ip':
        return publicIp(rng);
      case 'n':
        return String(rng.int(10000, 99999));
    }
  }
}

/**
 * Numbers incidents and investigations in creation order: a machine's alerts within a day of the first
 * share an incident, and the investigated ones in an incident share its investigation.
 */
function groupIntoIncidents(rng: Random, drafts: readonly AlertDraft[]): void {
  let nextIncident = rng.int(1200, 60_000);
  let nextInvestigation = rng.int(100, 9_000);
  const open = new Map<
    MachineDraft,
    { id: number; start: Ticks; size: number; investigation: number | null }
  >();
  for (const draft of drafts) {
    let incident = open.get(draft.machine);
    if (!incident || draft.created - incident.start > DAY || incident.size >= 10) {
      incident = { id: nextIncident, start: draft.created, size: 0, investigation: null };
      // Incidents of other workloads (email, identity) take numbers in between.
      nextIncident += rng.int(1, 4);
      open.set(draft.machine, incident);
    }
    incident.size++;
    draft.dto.incidentId = incident.id;
    if (draft.investigated) {
      if (incident.investigation === null) {
        incident.investigation = nextInvestigation;
        nextInvestigation += rng.int(1, 3);
      }
      draft.dto.investigationId = incident.investigation;
    }
  }
}

const RISK_OF: Record<AlertSeverity, RiskScore> = {
  UnSpecified: 'Low',
  Informational: 'Informational',
  Low: 'Low',
  Medium: 'Medium',
  High: 'High',
};

/** Defender derives a machine's risk from its highest-severity alert that is not resolved. */
export function riskScoreOf(alerts: readonly AlertDto[]): RiskScore {
  let worst = -1;
  for (const alert of alerts) {
    if (alert.status !== 'Resolved') worst = Math.max(worst, SEVERITY_ORDER.indexOf(alert.severity));
  }
  return worst < 0 ? 'None' : RISK_OF[SEVERITY_ORDER[worst]!];
}
