/**
 * What the SOC and automated investigation did with an alert: its status, update and resolution times,
 * classification and determination, investigation state, assignee and comments, all consistent.
 */

import type {
  AlertClassification,
  AlertCommentDto,
  AlertDetermination,
  AlertStatus,
  DetectionSource,
  InvestigationState,
} from '../defender/types.js';
import type { OsFamily } from './data-machines.js';
import type { Organisation } from './data-org.js';
import type { Random, Weighted } from './data-random.js';
import type { Clock, Ticks } from './data-time.js';
import { DAY, MINUTE } from './data-time.js';

/** What triage looks at in a detection. */
export interface TriageSubject {
  readonly category: string;
  /** Raised by a detection test: resolved as expected activity. */
  readonly test: boolean;
}

/** States in which an automated investigation ran, so the alert carries an investigationId. */
export const INVESTIGATED = new Set<InvestigationState>([
  'Running',
  'Queued',
  'PendingApproval',
  'PendingResource',
  'SuccessfullyRemediated',
  'PartiallyRemediated',
  'Benign',
  'Failed',
  'Terminated',
  'TerminatedByUser',
  'TerminatedBySystem',
  'PartiallyInvestigated',
  'InnerFailure',
]);
const COMMENTS = [
  'Investigating.',
  'Contacted the user, who does not recognise this activity.',
  'Device isolated pending investigation.',
  'Known admin script, approved in change CHG{n}.',
  'Escalated to incident response.',
  'Part of the penetration test scheduled this week.',
  'Line-of-business updater; exclusion requested.',
  'File quarantined, full scan clean.',
  'Closing as benign.',
];

/** Old alerts are mostly resolved; recent ones mostly still new. */
export function statusOf(rng: Random, created: Ticks): AlertStatus {
  const age = -created;
  const resolvedShare = age > 30 * DAY ? 0.92 : age > 7 * DAY ? 0.7 : 0.3;
  if (rng.chance(resolvedShare)) return 'Resolved';
  return rng.weighted<AlertStatus>([
    ['New', 70],
    ['InProgress', 28],
    ['Unknown', 2],
  ]);
}

export function updateTimes(
  rng: Random,
  status: AlertStatus,
  created: Ticks,
): { lastUpdate: Ticks; resolved: Ticks | null } {
  const untilNow = -created;
  if (status === 'Resolved') {
    const span = Math.min(untilNow, 14 * DAY);
    const resolved = created + rng.int(Math.min(10 * MINUTE, span), span);
    return { lastUpdate: resolved + rng.int(0, Math.min(2 * MINUTE, -resolved)), resolved };
  }
  if (status === 'InProgress') {
    const span = Math.min(untilNow, 7 * DAY);
    return { lastUpdate: created + rng.int(Math.min(5 * MINUTE, span), span), resolved: null };
  }
  if (status === 'New')
    return { lastUpdate: created + rng.int(0, Math.min(5 * MINUTE, untilNow)), resolved: null };
  return { lastUpdate: created, resolved: null };
}

export function classificationOf(
  rng: Random,
  status: AlertStatus,
  detection: TriageSubject,
): AlertClassification | null {
  const share = { Resolved: 0.88, InProgress: 0.25, New: 0.02, Unknown: 0 }[status];
  if (!rng.chance(share)) return null;
  if (detection.test) return 'InformationalExpectedActivity';
  const [tp, expected, fp] =
    detection.category === 'Malware' || detection.category === 'Ransomware'
      ? [65, 10, 25]
      : detection.category === 'UnwantedSoftware'
        ? [50, 35, 15]
        : [30, 40, 30];
  return rng.weighted<AlertClassification>([
    ['TruePositive', tp],
    ['InformationalExpectedActivity', expected],
    ['FalsePositive', fp],
  ]);
}

/** A determination from the classification's own group (alerts.md spelling), fitting the category. */
export function determinationOf(
  rng: Random,
  classification: AlertClassification,
  detection: TriageSubject,
): AlertDetermination {
  if (classification === 'FalsePositive')
    return rng.pick<AlertDetermination>(['Clean', 'InsufficientData', 'Other']);
  if (classification === 'InformationalExpectedActivity') {
    if (detection.test) return 'SecurityTesting';
    return rng.pick<AlertDetermination>([
      'LineOfBusinessApplication',
      'ConfirmedUserActivity',
      'SecurityTesting',
      'Other',
    ]);
  }
  switch (detection.category) {
    case 'Malware':
    case 'Ransomware':
    case 'Exploit':
      return 'Malware';
    case 'UnwantedSoftware':
      return 'UnwantedSoftware';
    case 'InitialAccess':
      return 'Phishing';
    case 'CredentialAccess':
    case 'LateralMovement':
      return rng.pick<AlertDetermination>(['CompromisedUser', 'MultiStagedAttack']);
    default:
      return rng.pick<AlertDetermination>(['MaliciousUserActivity', 'MultiStagedAttack', 'Other']);
  }
}

const OPEN_STATES: Weighted<InvestigationState> = [
  ['UnsupportedAlertType', 30],
  ['Running', 15],
  ['PendingApproval', 12],
  ['Benign', 10],
  ['Queued', 8],
  ['PreexistingAlert', 8],
  ['SuppressedAlert', 5],
  ['PartiallyInvestigated', 5],
  ['Unknown', 5],
  ['InnerFailure', 2],
];
const CLOSED_STATES: Weighted<InvestigationState> = [
  ['UnsupportedAlertType', 25],
  ['Benign', 25],
  ['SuccessfullyRemediated', 20],
  ['PreexistingAlert', 8],
  ['TerminatedByUser', 8],
  ['TerminatedBySystem', 6],
  ['PartiallyRemediated', 5],
  ['Failed', 3],
];

/** Automated investigation runs on Windows only; alerts it raised itself carry its outcome. */
export function investigationStateOf(
  rng: Random,
  family: OsFamily,
  status: AlertStatus,
  source: DetectionSource,
): InvestigationState | null {
  if (rng.chance(0.02)) return null;
  if (family !== 'windows') return rng.chance(0.8) ? 'UnsupportedOs' : 'UnsupportedAlertType';
  if (source === 'AutomatedInvestigation') {
    return status === 'Resolved'
      ? rng.weighted<InvestigationState>([
          ['SuccessfullyRemediated', 60],
          ['PartiallyRemediated', 15],
          ['Benign', 15],
          ['TerminatedBySystem', 10],
        ])
      : rng.weighted<InvestigationState>([
          ['PendingApproval', 40],
          ['Running', 40],
          ['PendingResource', 10],
          ['Queued', 10],
        ]);
  }
  return rng.weighted(status === 'Resolved' ? CLOSED_STATES : OPEN_STATES);
}

export function assignee(
  rng: Random,
  org: Organisation,
  status: AlertStatus,
  source: DetectionSource,
): string | null {
  if (status === 'New' || status === 'Unknown') return rng.chance(0.15) ? rng.pick(org.analysts) : null;
  if (status === 'Resolved' && source === 'AutomatedInvestigation' && rng.chance(0.7)) return 'Automation';
  return rng.weighted<string | null>([
    [rng.pick(org.analysts), 85],
    ['API Action', 3],
    [null, status === 'Resolved' ? 12 : 2],
  ]);
}

export function comments(
  rng: Random,
  org: Organisation,
  status: AlertStatus,
  assignedTo: string | null,
  created: Ticks,
  lastUpdate: Ticks,
  clock: Clock,
): AlertCommentDto[] {
  const share = { New: 0.03, InProgress: 0.3, Resolved: 0.2, Unknown: 0 }[status];
  if (!rng.chance(share)) return [];
  const author = assignedTo?.includes('@') ? assignedTo : rng.pick(org.analysts);
  const times = Array.from({ length: rng.int(1, 3) }, () => rng.int(created, lastUpdate)).sort(
    (a, b) => a - b,
  );
  return times.map((t) => ({
    comment: rng.pick(COMMENTS).replace('{n}', String(rng.int(100000, 999999))),
    createdBy: author,
    createdTime: clock.ticksTime(t),
  }));
}
