import type { GraphQLResolveInfo, GraphQLScalarType, GraphQLScalarTypeConfig } from 'graphql';
import type { MachineParent, UserParent, ConnectionParent } from '../graphql/parents.js';
import type { AlertDto, IpAddressDto, VmMetadataDto, AlertCommentDto, AlertEvidenceDto, RelatedUserDto, LoggedOnUserDto } from '../defender/types.js';
import type { GraphQLContext } from '../graphql/context.js';
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type Omit<T, K extends keyof T> = Pick<T, Exclude<keyof T, K>>;
export type RequireFields<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: NonNullable<T[P]> };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /**
   * A date and time as an ISO-8601 string in UTC, ending in `Z`, e.g. `2026-10-31T08:15:02.1234567Z`.
   *
   * In answers the string is passed through exactly as Defender sent it, with anything from whole seconds up to
   * 7 fractional digits (100 ns steps); two values may differ in their number of digits, so compare them as
   * instants (`Date.parse`), not as strings. As an argument, give a UTC date-time such as `2026-10-31T00:00:00Z`,
   * with seconds, naming a time that exists: `2026-02-30T00:00:00Z`, month 13 or hour 24 is `BAD_USER_INPUT` (as a
   * literal and as a variable alike), and no call is made.
   */
  DateTime: { input: string; output: string; }
  _FieldSet: { input: unknown; output: unknown; }
};

/**
 * A Defender for Endpoint alert: a detection on one machine. Property names are Defender's own
 * (`GET /api/alerts/{id}`).
 *
 * A federation entity: other subgraphs reference an alert by `id`, resolved through the same batched lookup as
 * `Query.alert` (one `GET /api/alerts?$filter=id in (…)` per 50 alerts, unless cached). A reference to an alert
 * Defender does not return resolves to null.
 */
export type Alert = {
  __typename?: 'Alert';
  /** The Microsoft Entra tenant (a GUID) the alert belongs to. Null when Defender does not say. */
  aadTenantId?: Maybe<Scalars['String']['output']>;
  /** When the alert was created. Null when Defender does not say. */
  alertCreationTime?: Maybe<Scalars['DateTime']['output']>;
  /**
   * Who owns the alert: usually a user principal name (`jdoe@contoso.com`), but free text (e.g. `API Action`).
   * Null when unassigned.
   */
  assignedTo?: Maybe<Scalars['String']['output']>;
  /**
   * The alert's category, e.g. `Execution`, `Malware`, `CredentialAccess`, `SuspiciousActivity`. An open set.
   * Null when Defender does not say.
   */
  category?: Maybe<Scalars['String']['output']>;
  /** Whether the alert is a real threat, as an analyst classified it. Null until classified. */
  classification?: Maybe<AlertClassification>;
  /** Comments analysts wrote on the alert, in the order Defender sends them; an empty list when none. */
  comments: Array<AlertComment>;
  /** The DNS name of the alert's machine at the time of the alert. Null when Defender does not say. */
  computerDnsName?: Maybe<Scalars['String']['output']>;
  /** The alert's description; may contain line breaks (`\n`). Null when Defender does not say. */
  description?: Maybe<Scalars['String']['output']>;
  /**
   * Which Defender component or service raised the alert. Null when Defender does not say; a source that this
   * schema does not list yet also comes back as null, with an error on this field.
   */
  detectionSource?: Maybe<DetectionSource>;
  /** Id (a GUID) of the detection rule or model that raised the alert. Null when Defender does not say. */
  detectorId?: Maybe<Scalars['String']['output']>;
  /** What the alert turned out to be, within its `classification`. Null until determined. */
  determination?: Maybe<AlertDetermination>;
  /** Domain names related to the alert; an empty list when none. Microsoft does not document this property. */
  domains: Array<Scalars['String']['output']>;
  /**
   * What Defender found: files, processes, accounts, addresses… Always complete: `Query.alerts` asks Defender
   * for it (`$expand=evidence`, no extra call), and on alerts from `Machine.alerts` or `User.alerts`, whose routes
   * leave it empty, asking for it costs one batched `GET /api/alerts?$filter=id in (…)` per 50 alerts. Null only
   * when that lookup failed, together with an error at this field's path; the alert and its other fields keep
   * their data, and so do the other alerts of the list.
   */
  evidence?: Maybe<Array<AlertEvidence>>;
  /** When the earliest activity of the alert happened on the machine. Null when Defender does not say. */
  firstEventTime?: Maybe<Scalars['DateTime']['output']>;
  /**
   * Defender's alert id: `da`, `ar` or no prefix, then 18 digits (the creation time in .NET ticks), `_` and a
   * signed number, e.g. `da638180599315648136_73827727`.
   */
  id: Scalars['ID']['output'];
  /**
   * Id of the incident the alert belongs to; null when none. Always a whole number: it is a `Float` because
   * Defender types it as a 64-bit integer, and GraphQL's `Int` is 32-bit.
   */
  incidentId?: Maybe<Scalars['Float']['output']>;
  /**
   * Id of the automated investigation of the alert; null when none. Always a whole number: it is a `Float`
   * because Defender types it as a 64-bit integer, and GraphQL's `Int` is 32-bit.
   */
  investigationId?: Maybe<Scalars['Float']['output']>;
  /** State of the automated investigation of the alert. Null when Defender does not say. */
  investigationState?: Maybe<InvestigationState>;
  /** When the latest activity of the alert happened on the machine. Null when Defender does not say. */
  lastEventTime?: Maybe<Scalars['DateTime']['output']>;
  /** When the alert last changed. Null when Defender does not say. */
  lastUpdateTime?: Maybe<Scalars['DateTime']['output']>;
  /**
   * Accounts logged on to the machine at the time of the alert, by name only; an empty list when Defender lists
   * none.
   */
  loggedOnUsers: Array<LoggedOnUser>;
  /**
   * The machine the alert is on. The alert already carries its `id`, `computerDnsName` and `rbacGroupName`, and
   * its relationships need only the id: those cost nothing for the machine itself. Its other properties cost a
   * lookup unless the machine is cached (every machine of a `Query.machines` page or of `User.machines` is): the
   * machines of all alerts in the response are fetched together, one `GET /api/machines/{id}` for a single machine
   * or one `GET /api/machines?$filter=id in (…)` per 50 machines.
   */
  machine?: Maybe<Machine>;
  /**
   * The `id` of the one machine the alert is on (40 hexadecimal characters); see `machine`. Null when Defender
   * does not say.
   */
  machineId?: Maybe<Scalars['String']['output']>;
  /** MITRE ATT&CK technique ids of the alert, e.g. `T1059.001`, `T1064`; an empty list when none. */
  mitreTechniques: Array<Scalars['String']['output']>;
  /** Name of the device group of the alert's machine; null when the machine belongs to none. */
  rbacGroupName?: Maybe<Scalars['String']['output']>;
  /** The account most involved in the alert, by name only; null when none. `user` gives it as a `User`. */
  relatedUser?: Maybe<RelatedUser>;
  /** When the alert was resolved; null while it is not resolved. */
  resolvedTime?: Maybe<Scalars['DateTime']['output']>;
  /** How severe the alert is. */
  severity: AlertSeverity;
  /** Where the alert is in its handling. */
  status: AlertStatus;
  /** The malware family, e.g. `Mimikatz`; null when none or unknown. */
  threatFamilyName?: Maybe<Scalars['String']['output']>;
  /** The threat's name as Defender's antimalware names it; null when none or unknown. */
  threatName?: Maybe<Scalars['String']['output']>;
  /** The alert's one-line title. Null when Defender does not say. */
  title?: Maybe<Scalars['String']['output']>;
  /**
   * The account involved in the alert; null when the alert has no `relatedUser` (Defender's
   * `GET /api/alerts/{id}/user` answers 404 exactly then, so no call is made). The alert already names the account:
   * `id`, `accountName`, `accountDomain`, `machines` and `alerts` cost nothing for the user itself; its other
   * properties cost one call to `GET /api/alerts/{id}/user` unless cached.
   */
  user?: Maybe<User>;
};

/** One change of one alert, as the poll saw it. */
export type AlertChange = {
  __typename?: 'AlertChange';
  /** The alert as it is after the change. */
  alert: Alert;
  /** Whether the alert is new (`CREATED`) or changed (`UPDATED`). */
  kind: AlertChangeKind;
};

/** What happened to an alert. */
export type AlertChangeKind =
  /** The alert was raised since the previous poll (its `alertCreationTime` is after the poll's watermark). */
  | 'CREATED'
  /** An existing alert changed (status, assignment, classification, comments…) since the previous poll. */
  | 'UPDATED';

/** Whether an alert is a real threat, as an analyst classified it (`classification`). */
export type AlertClassification =
  /** Not a threat: the detection was wrong. */
  | 'FalsePositive'
  /** Real activity that is expected or wanted here, e.g. a security test. */
  | 'InformationalExpectedActivity'
  /** A real threat. */
  | 'TruePositive';

/** A comment an analyst wrote on an alert. */
export type AlertComment = {
  __typename?: 'AlertComment';
  /** The text of the comment. Null when Defender does not say. */
  comment?: Maybe<Scalars['String']['output']>;
  /** Who wrote it, usually a user principal name. Null when Defender does not say. */
  createdBy?: Maybe<Scalars['String']['output']>;
  /** When it was written. Null when Defender does not say. */
  createdTime?: Maybe<Scalars['DateTime']['output']>;
};

/** A page of alerts. */
export type AlertConnection = {
  __typename?: 'AlertConnection';
  /** The alerts of this page, each with its cursor. */
  edges: Array<AlertEdge>;
  /** The alerts of this page, in Defender's order; the same as `edges[].node`. */
  nodes: Array<Alert>;
  /** Whether another page follows, and the cursor to ask for it. */
  pageInfo: PageInfo;
};

/**
 * What an alert turned out to be (`determination`), within its classification. Microsoft's documentation pages
 * disagree on three names, so both spellings are listed: `COMPROMISED_USER`/`COMPROMISED_ACCOUNT`,
 * `CONFIRMED_USER_ACTIVITY`/`CONFIRMED_ACTIVITY`, `CLEAN`/`NOT_MALICIOUS`.
 */
export type AlertDetermination =
  /** False positive: nothing malicious (the spelling of one documentation page). */
  | 'Clean'
  /** True positive: a compromised account (the spelling of another documentation page). */
  | 'CompromisedAccount'
  /** True positive: a compromised account (the spelling of one documentation page). */
  | 'CompromisedUser'
  /** Expected activity: a user's activity, confirmed (the spelling of another documentation page). */
  | 'ConfirmedActivity'
  /** Expected activity: a user's activity, confirmed (the spelling of one documentation page). */
  | 'ConfirmedUserActivity'
  /** False positive: not enough data to tell. */
  | 'InsufficientData'
  /** Expected activity: a line-of-business application. */
  | 'LineOfBusinessApplication'
  /** True positive: malicious activity by a user. */
  | 'MaliciousUserActivity'
  /** True positive: malware. */
  | 'Malware'
  /** True positive: one stage of a multi-stage attack. */
  | 'MultiStagedAttack'
  /** False positive: nothing malicious (the spelling of another documentation page). */
  | 'NotMalicious'
  /** Another determination, in any classification. */
  | 'Other'
  /** True positive: phishing. */
  | 'Phishing'
  /** Expected activity: a security test. */
  | 'SecurityTesting'
  /** True positive: unwanted software. */
  | 'UnwantedSoftware';

/** An alert in a page, with its cursor. */
export type AlertEdge = {
  __typename?: 'AlertEdge';
  /** Opaque position of this alert in the list: pass it as `after` to get the alerts that follow it. */
  cursor: Scalars['String']['output'];
  /** The alert. */
  node: Alert;
};

/**
 * One piece of evidence of an alert: a file, process, account, IP address, URL or registry value. Defender sends
 * every property on every item; those that do not apply to its `entityType` are null.
 */
export type AlertEvidence = {
  __typename?: 'AlertEvidence';
  /** Microsoft Entra object id of the account (a GUID); null when not an account or not known. */
  aadUserId?: Maybe<Scalars['String']['output']>;
  /** Account name without its domain; null when not an account. */
  accountName?: Maybe<Scalars['String']['output']>;
  /** What Defender did about the evidence, e.g. `Detected`. An open set; null when Defender does not say. */
  detectionStatus?: Maybe<Scalars['String']['output']>;
  /** Domain of the account; null when not an account or not known. */
  domainName?: Maybe<Scalars['String']['output']>;
  /** What kind of evidence this is, e.g. `File`, `Process`, `User`, `Ip`, `Url`. An open set. */
  entityType: Scalars['String']['output'];
  /** When Defender recorded the evidence; null when not known. */
  evidenceCreationTime?: Maybe<Scalars['DateTime']['output']>;
  /** File name, e.g. `mimikatz.exe`; null when not a file or process. */
  fileName?: Maybe<Scalars['String']['output']>;
  /** Folder of the file, e.g. `C:\Users\user1\Downloads`; null when not a file or process. */
  filePath?: Maybe<Scalars['String']['output']>;
  /** The IP address, IPv4 or IPv6; null when not an address. */
  ipAddress?: Maybe<Scalars['String']['output']>;
  /** When the parent process started; null when not a process or not known. */
  parentProcessCreationTime?: Maybe<Scalars['DateTime']['output']>;
  /** File name of the parent process, e.g. `explorer.exe`; null when not a process or not known. */
  parentProcessFileName?: Maybe<Scalars['String']['output']>;
  /** Folder of the parent process's file; null when not a process or not known. */
  parentProcessFilePath?: Maybe<Scalars['String']['output']>;
  /** Id of the parent process; null when not a process or not known. A `Float` for the same reason as `processId`. */
  parentProcessId?: Maybe<Scalars['Float']['output']>;
  /** Command line of the process; null when not a process. */
  processCommandLine?: Maybe<Scalars['String']['output']>;
  /** When the process started; null when not a process. */
  processCreationTime?: Maybe<Scalars['DateTime']['output']>;
  /**
   * Id of the process; null when not a process. A `Float` because process ids can exceed GraphQL's signed 32-bit
   * `Int` (they are unsigned 32-bit on Windows); always a whole number.
   */
  processId?: Maybe<Scalars['Float']['output']>;
  /** Registry hive, e.g. `HKEY_LOCAL_MACHINE`; null when not a registry value. */
  registryHive?: Maybe<Scalars['String']['output']>;
  /** Registry key, e.g. `SOFTWARE\Microsoft\Windows\CurrentVersion\Run`; null when not a registry value. */
  registryKey?: Maybe<Scalars['String']['output']>;
  /** Data of the registry value, as text; null when not a registry value. */
  registryValue?: Maybe<Scalars['String']['output']>;
  /** Name of the registry value; null when not a registry value. */
  registryValueName?: Maybe<Scalars['String']['output']>;
  /** Type of the registry value, e.g. `String`; null when not a registry value. */
  registryValueType?: Maybe<Scalars['String']['output']>;
  /** SHA-1 hash of the file, 40 hexadecimal characters; null when not a file or process. */
  sha1?: Maybe<Scalars['String']['output']>;
  /** SHA-256 hash of the file, 64 hexadecimal characters; null when not a file or process or not known. */
  sha256?: Maybe<Scalars['String']['output']>;
  /** The URL; null when not a URL. */
  url?: Maybe<Scalars['String']['output']>;
  /** User principal name of the account (`user1@contoso.com`); null when not an account or not known. */
  userPrincipalName?: Maybe<Scalars['String']['output']>;
  /** Windows security identifier of the account (`S-1-5-…`); null when not an account or not known. */
  userSid?: Maybe<Scalars['String']['output']>;
};

/**
 * Which alerts `Query.alerts` returns. Every field given becomes one condition of Defender's OData `$filter` on
 * `GET /api/alerts`, and all of them are combined with `and`; fields left out do not filter. Only properties
 * Defender documents as filterable are offered: there is no filter by machine (use `Machine.alerts`) or by user
 * (use `User.alerts`). Text values are sent as OData string literals (a `'` inside is doubled). List fields
 * accept at most 100 values: more is `BAD_USER_INPUT`, and no call is made.
 */
export type AlertFilter = {
  /** Only alerts owned by exactly this owner, written as in `Alert.assignedTo`. Becomes `assignedTo eq '…'`. */
  assignedTo?: InputMaybe<Scalars['String']['input']>;
  /**
   * Only alerts in one of these categories, written as in `Alert.category` (e.g. `Malware`). Becomes
   * `category in ('Malware','Execution')`.
   */
  category?: InputMaybe<Array<Scalars['String']['input']>>;
  /** Only alerts created at or after this time (inclusive). Becomes `alertCreationTime ge 2026-10-01T00:00:00Z`. */
  createdAfter?: InputMaybe<Scalars['DateTime']['input']>;
  /** Only alerts created before this time (exclusive). Becomes `alertCreationTime lt 2026-10-31T00:00:00Z`. */
  createdBefore?: InputMaybe<Scalars['DateTime']['input']>;
  /** Only alerts raised by one of these sources. Becomes `detectionSource in ('WindowsDefenderAv','CustomDetection')`. */
  detectionSource?: InputMaybe<Array<DetectionSource>>;
  /**
   * Only these alert ids, each in a form `Query.alert(id:)` accepts; a malformed one is `BAD_USER_INPUT`, and no
   * call is made. Becomes `id in ('…','…')`.
   */
  ids?: InputMaybe<Array<Scalars['ID']['input']>>;
  /** Only alerts of this incident. A whole number; anything else is `BAD_USER_INPUT`. Becomes `incidentId eq 42`. */
  incidentId?: InputMaybe<Scalars['Float']['input']>;
  /**
   * Only alerts of this automated investigation. A whole number; anything else is `BAD_USER_INPUT`. Becomes
   * `investigationId eq 42`.
   */
  investigationId?: InputMaybe<Scalars['Float']['input']>;
  /**
   * Only alerts whose latest activity is at or after this time (inclusive). Becomes
   * `lastEventTime ge 2026-10-01T00:00:00Z`.
   */
  lastEventAfter?: InputMaybe<Scalars['DateTime']['input']>;
  /**
   * Only alerts whose latest activity is before this time (exclusive). Becomes
   * `lastEventTime lt 2026-10-31T00:00:00Z`.
   */
  lastEventBefore?: InputMaybe<Scalars['DateTime']['input']>;
  /** Only alerts last changed at or after this time (inclusive). Becomes `lastUpdateTime ge 2026-10-01T00:00:00Z`. */
  lastUpdatedAfter?: InputMaybe<Scalars['DateTime']['input']>;
  /** Only alerts last changed before this time (exclusive). Becomes `lastUpdateTime lt 2026-10-31T00:00:00Z`. */
  lastUpdatedBefore?: InputMaybe<Scalars['DateTime']['input']>;
  /** Only alerts of one of these severities. Becomes `severity in ('High','Medium')`. */
  severity?: InputMaybe<Array<AlertSeverity>>;
  /** Only alerts in one of these states. Becomes `status in ('New','InProgress')`. */
  status?: InputMaybe<Array<AlertStatus>>;
};

/** How severe an alert is (`severity`). */
export type AlertSeverity =
  /** High severity: likely an active or advanced attack that can do real harm. */
  | 'High'
  /** Not a threat in itself, but worth knowing, e.g. a policy event. */
  | 'Informational'
  /** Low severity: usually commodity malware or hack tools, not an advanced attack. */
  | 'Low'
  /** Medium severity: suspicious behaviour that may be part of an attack. */
  | 'Medium'
  /** No severity given. */
  | 'UnSpecified';

/** Where an alert is in its handling (`status`). */
export type AlertStatus =
  /** Someone works on it. */
  | 'InProgress'
  /** Not handled yet. */
  | 'New'
  /** Handled and closed. */
  | 'Resolved'
  /** Defender does not say. */
  | 'Unknown';

/**
 * One rate-limit window of one Defender API, as this gateway counts it. Defender throttles every API (route
 * template) separately, over several windows at once (by default 100 calls per 60 seconds and 1,500 calls per
 * 3,600 seconds); a call needs room in every window of its API.
 */
export type ApiBudget = {
  __typename?: 'ApiBudget';
  /**
   * The Defender API, named by its route template below `/api`, e.g. `machines`, `machines/{id}/logonusers`,
   * `alerts/{id}/user`.
   */
  api: Scalars['String']['output'];
  /** The most calls this API allows in one window (`windowSeconds`). */
  limit: Scalars['Int']['output'];
  /** Calls this gateway can still send to this API in the window now, between 0 and `limit`. */
  remaining: Scalars['Int']['output'];
  /**
   * When the window next regains a slot: the oldest call it still counts, plus the window (windows slide); the
   * current time when it counts no call.
   */
  resetAt: Scalars['DateTime']['output'];
  /** Length of the window, in seconds (e.g. `60` or `3600`). */
  windowSeconds: Scalars['Int']['output'];
};

/** Which Defender component or Microsoft service raised an alert (`detectionSource`). */
export type DetectionSource =
  /** Automated investigation and response. */
  | 'AutomatedInvestigation'
  /** The organization's own threat-intelligence indicators. */
  | 'CustomerTI'
  /** A custom detection rule of the organization (advanced hunting). */
  | 'CustomDetection'
  /** Microsoft Defender XDR (formerly Microsoft Threat Protection). */
  | 'MTP'
  /** Microsoft Defender for Office 365. */
  | 'OfficeATP'
  /** A third-party sensor. */
  | 'ThirdPartySensors'
  /** Microsoft Threat Experts, Microsoft's managed threat hunting. */
  | 'ThreatExperts'
  /** Defender for Endpoint's endpoint detection and response (EDR) sensor. */
  | 'WindowsDefenderAtp'
  /** Microsoft Defender Antivirus. */
  | 'WindowsDefenderAv'
  /** Microsoft Defender SmartScreen. */
  | 'WindowsDefenderSmartScreen';

/**
 * How valuable a machine is to the organization, as an administrator set it (`deviceValue`). It weighs on the
 * machine's exposure.
 */
export type DeviceValue =
  /** A high-value asset, e.g. a domain controller or an executive's laptop. */
  | 'High'
  /** Less valuable than most machines. */
  | 'Low'
  /** The default. */
  | 'Normal';

/**
 * A machine's exposure to vulnerabilities and misconfigurations (`exposureLevel`), from Defender Vulnerability
 * Management.
 */
export type ExposureLevel =
  /** High exposure. */
  | 'High'
  /** Low exposure. */
  | 'Low'
  /** Medium exposure. */
  | 'Medium'
  /** No exposure found. */
  | 'None';

/** Whether the Defender sensor on a machine is reporting (`healthStatus`). */
export type HealthStatus =
  /** The sensor reports normally. */
  | 'Active'
  /** Communication with the machine is impaired: Defender may be unable to collect data from it or act on it. */
  | 'ImpairedCommunication'
  /** The machine has sent no signal for more than 7 days. */
  | 'Inactive'
  /** The sensor sends no data, e.g. because it is turned off or misconfigured. */
  | 'NoSensorData'
  /** Both `NO_SENSOR_DATA` and `IMPAIRED_COMMUNICATION`. */
  | 'NoSensorDataImpairedCommunication'
  /** Defender does not know the sensor's state. */
  | 'Unknown';

/** State of the automated investigation of an alert (`investigationState`). */
export type InvestigationState =
  /** No threat found. */
  | 'Benign'
  /** The investigation failed. */
  | 'Failed'
  /** The investigation failed on an error inside Defender. */
  | 'InnerFailure'
  /** Only part of the investigation could be done. */
  | 'PartiallyInvestigated'
  /** Some of the threats found were remediated, not all. */
  | 'PartiallyRemediated'
  /** Remediation actions wait for an analyst's approval. */
  | 'PendingApproval'
  /** The investigation waits for a resource, e.g. for the machine to come online. */
  | 'PendingResource'
  /** Not investigated: Defender treats the alert as pre-existing. */
  | 'PreexistingAlert'
  /** The investigation waits to start. */
  | 'Queued'
  /** The investigation is running. */
  | 'Running'
  /** Every threat found was remediated. */
  | 'SuccessfullyRemediated'
  /** Not investigated: a suppression rule suppressed the alert. */
  | 'SuppressedAlert'
  /** The investigation stopped. */
  | 'Terminated'
  /** Defender stopped the investigation. */
  | 'TerminatedBySystem'
  /** A person stopped the investigation. */
  | 'TerminatedByUser'
  /** Defender does not say. */
  | 'Unknown'
  /** Not investigated: automated investigation does not support this type of alert. */
  | 'UnsupportedAlertType'
  /** Not investigated: automated investigation does not support the machine's operating system. */
  | 'UnsupportedOs';

/** An IP address on one of a machine's network interfaces. */
export type IpAddress = {
  __typename?: 'IpAddress';
  /**
   * The address, IPv4 (`10.1.14.22`) or IPv6 (`fe80::1c5d:…`), as text. Loopback (`127.0.0.1`, `::1`) and
   * link-local addresses are included.
   */
  ipAddress: Scalars['String']['output'];
  /**
   * MAC address of the interface: 12 upper-case hexadecimal characters without separators, e.g. `8CEC4B897E73`.
   * Null for loopback interfaces.
   */
  macAddress?: Maybe<Scalars['String']['output']>;
  /** Whether the interface was up: `Up` or `Down`. Null when Defender does not say. */
  operationalStatus?: Maybe<Scalars['String']['output']>;
  /** Interface type, e.g. `Ethernet` or `SoftwareLoopback`. An open set. Null when Defender does not say. */
  type?: Maybe<Scalars['String']['output']>;
};

/** An account logged on to an alert's machine when the alert happened (`Alert.loggedOnUsers`), by name only. */
export type LoggedOnUser = {
  __typename?: 'LoggedOnUser';
  /** The account name without its domain, e.g. `user1`. */
  accountName: Scalars['String']['output'];
  /** The account's domain, e.g. `contoso`, or a machine name for a local account. Null when Defender does not say. */
  domainName?: Maybe<Scalars['String']['output']>;
};

/**
 * A device known to Defender for Endpoint: a workstation, server or mobile device, onboarded or only discovered
 * on the network. Property names are Defender's own (`GET /api/machines/{id}`).
 *
 * A federation entity: other subgraphs reference a machine by `id`, resolved through the same batched lookup as
 * `Query.machine` (one `GET /api/machines?$filter=id in (…)` per 50 machines, unless cached), or by
 * `computerDnsName`, resolved as `Query.machine` resolves a computer name (one
 * `GET /api/machines?$filter=computerDnsName in (…)` per 50 names). A reference to a machine Defender does not return resolves to null.
 */
export type Machine = {
  __typename?: 'Machine';
  /**
   * The machine's Microsoft Entra device id, a GUID. Null when unknown, which happens even on some machines whose
   * `isAadJoined` is true.
   */
  aadDeviceId?: Maybe<Scalars['String']['output']>;
  /** Version of the Defender sensor on the machine, e.g. `10.8470.19041.2788`. Null when Defender does not say. */
  agentVersion?: Maybe<Scalars['String']['output']>;
  /**
   * Alerts raised on this machine. Costs one call to `GET /api/machines/{id}/alerts` unless cached (their
   * `evidence` costs more, see `Alert.evidence`).
   * Null only when it failed, together with an error at this field's path; the machine and its other fields keep
   * their data.
   */
  alerts?: Maybe<Array<Alert>>;
  /**
   * The machine's fully qualified DNS name, or a bare host name (e.g. `se-pov-desktop`). Null, or an empty
   * string, when Defender does not know it.
   */
  computerDnsName?: Maybe<Scalars['String']['output']>;
  /**
   * State of Microsoft Defender Antivirus on the machine, as Defender words it, e.g. `Updated`. An open set.
   * Null when Defender does not say.
   */
  defenderAvStatus?: Maybe<Scalars['String']['output']>;
  /** How valuable the machine is to the organization, as an administrator set it. Null when Defender does not say. */
  deviceValue?: Maybe<DeviceValue>;
  /** Why the machine was excluded; null when it is not excluded. */
  exclusionReason?: Maybe<Scalars['String']['output']>;
  /**
   * The machine's exposure to vulnerabilities and misconfigurations (Defender Vulnerability Management). Null
   * when not assessed.
   */
  exposureLevel?: Maybe<ExposureLevel>;
  /** When Defender first observed the machine. */
  firstSeen: Scalars['DateTime']['output'];
  /** Whether the Defender sensor on the machine is reporting. */
  healthStatus: HealthStatus;
  /** Defender's machine id: 40 lower-case hexadecimal characters, e.g. `1e5bc9d7e413ddd7902c2932e418702b84d0cc07`. */
  id: Scalars['ID']['output'];
  /**
   * The addresses on the machine's network interfaces, loopback and link-local ones included; an empty list when
   * Defender knows none.
   */
  ipAddresses: Array<IpAddress>;
  /** True when the machine is joined to Microsoft Entra ID (formerly Azure AD). Null when Defender does not say. */
  isAadJoined?: Maybe<Scalars['Boolean']['output']>;
  /**
   * True when an administrator excluded the machine from Defender's inventory and reports (see
   * `exclusionReason`). Null when Defender does not say.
   */
  isExcluded?: Maybe<Scalars['Boolean']['output']>;
  /** True when Defender suspects this record is a duplicate of another machine. Null when Defender does not say. */
  isPotentialDuplication?: Maybe<Scalars['Boolean']['output']>;
  /** The last IP address through which the machine reached the internet. Null when Defender does not say. */
  lastExternalIpAddress?: Maybe<Scalars['String']['output']>;
  /** The last IP address seen on one of the machine's local network interfaces. Null when Defender does not say. */
  lastIpAddress?: Maybe<Scalars['String']['output']>;
  /**
   * Time of the machine's last full device report, which a machine sends about once every 24 hours. This is not
   * the "last seen" time of the Defender portal, which follows any sensor activity.
   */
  lastSeen: Scalars['DateTime']['output'];
  /**
   * Accounts that logged on to this machine, as full user records. Costs one call to
   * `GET /api/machines/{id}/logonusers` unless cached.
   * Null only when it failed, together with an error at this field's path; the machine and its other fields keep
   * their data.
   */
  logonUsers?: Maybe<Array<User>>;
  /** Tags an administrator or a rule put on the machine; an empty list when it has none. */
  machineTags: Array<Scalars['String']['output']>;
  /**
   * What manages the machine's Defender settings, e.g. `Intune` or `Unknown`. An open set. Null when Defender
   * does not say.
   */
  managedBy?: Maybe<Scalars['String']['output']>;
  /**
   * Whether that management is in effect, e.g. `Managed` or `Unknown`. An open set. Null when Defender does
   * not say.
   */
  managedByStatus?: Maybe<Scalars['String']['output']>;
  /**
   * When Defender merged this machine record into another one, the `id` of that machine; null otherwise (the
   * usual case).
   */
  mergedIntoMachineId?: Maybe<Scalars['String']['output']>;
  /**
   * Whether the machine is onboarded to Defender for Endpoint, or only discovered on the network. Null when
   * Defender does not say.
   */
  onboardingStatus?: Maybe<OnboardingStatus>;
  /**
   * Operating system architecture as Defender writes it, e.g. `32-bit` or `64-bit`. Null when Defender does
   * not say.
   */
  osArchitecture?: Maybe<Scalars['String']['output']>;
  /**
   * Operating system build number, e.g. `19044`; null when unknown. Always a whole number: it is a `Float`
   * because Defender types it as a 64-bit integer, and GraphQL's `Int` is 32-bit.
   */
  osBuild?: Maybe<Scalars['Float']['output']>;
  /**
   * Operating system family, e.g. `Windows10`, `Windows11`, `WindowsServer2019`, `WindowsServer2022`, `Linux`,
   * `macOS`, `iOS`, `Android`. An open set: Defender adds values as it supports new platforms. Null when Defender
   * does not say.
   */
  osPlatform?: Maybe<Scalars['String']['output']>;
  /**
   * Processor architecture, e.g. `x64`. Null when Defender does not say.
   * @deprecated Defender deprecates it in favour of `osArchitecture`.
   */
  osProcessor?: Maybe<Scalars['String']['output']>;
  /** Operating system version. Usually null: Defender seldom fills it; see `version` and `osBuild`. */
  osVersion?: Maybe<Scalars['String']['output']>;
  /**
   * Numeric id of the machine's device group (Defender's RBAC group), e.g. `140`. Defender's documentation calls
   * it a string, but Defender sends a number. Null when Defender does not say.
   */
  rbacGroupId?: Maybe<Scalars['Int']['output']>;
  /** Name of the machine's device group; null when the machine belongs to none. */
  rbacGroupName?: Maybe<Scalars['String']['output']>;
  /** Defender's risk assessment of the machine, driven by its active alerts. Null when not assessed. */
  riskScore?: Maybe<RiskScore>;
  /** Operating system release, e.g. `1709`, `21H2`, `23H2`, or `Other`. Null when unknown. */
  version?: Maybe<Scalars['String']['output']>;
  /** Details of the cloud virtual machine; null on physical machines and on virtual machines outside Azure. */
  vmMetadata?: Maybe<VmMetadata>;
};


/**
 * A device known to Defender for Endpoint: a workstation, server or mobile device, onboarded or only discovered
 * on the network. Property names are Defender's own (`GET /api/machines/{id}`).
 *
 * A federation entity: other subgraphs reference a machine by `id`, resolved through the same batched lookup as
 * `Query.machine` (one `GET /api/machines?$filter=id in (…)` per 50 machines, unless cached), or by
 * `computerDnsName`, resolved as `Query.machine` resolves a computer name (one
 * `GET /api/machines?$filter=computerDnsName in (…)` per 50 names). A reference to a machine Defender does not return resolves to null.
 */
export type MachineAlertsArgs = {
  first?: InputMaybe<Scalars['Int']['input']>;
};


/**
 * A device known to Defender for Endpoint: a workstation, server or mobile device, onboarded or only discovered
 * on the network. Property names are Defender's own (`GET /api/machines/{id}`).
 *
 * A federation entity: other subgraphs reference a machine by `id`, resolved through the same batched lookup as
 * `Query.machine` (one `GET /api/machines?$filter=id in (…)` per 50 machines, unless cached), or by
 * `computerDnsName`, resolved as `Query.machine` resolves a computer name (one
 * `GET /api/machines?$filter=computerDnsName in (…)` per 50 names). A reference to a machine Defender does not return resolves to null.
 */
export type MachineLogonUsersArgs = {
  first?: InputMaybe<Scalars['Int']['input']>;
};

/** A page of machines. */
export type MachineConnection = {
  __typename?: 'MachineConnection';
  /** The machines of this page, each with its cursor. */
  edges: Array<MachineEdge>;
  /** The machines of this page, in Defender's order; the same as `edges[].node`. */
  nodes: Array<Machine>;
  /** Whether another page follows, and the cursor to ask for it. */
  pageInfo: PageInfo;
};

/** A machine in a page, with its cursor. */
export type MachineEdge = {
  __typename?: 'MachineEdge';
  /** Opaque position of this machine in the list: pass it as `after` to get the machines that follow it. */
  cursor: Scalars['String']['output'];
  /** The machine. */
  node: Machine;
};

/**
 * Which machines `Query.machines` returns. Every field given becomes one condition of Defender's OData `$filter`
 * on `GET /api/machines`, and all of them are combined with `and`; fields left out do not filter. Only properties
 * Defender documents as filterable are offered. Text values are sent as OData string literals (a `'` inside is
 * doubled). List fields accept at most 100 values: more is `BAD_USER_INPUT`, and no call is made.
 */
export type MachineFilter = {
  /**
   * Only the machine with this Microsoft Entra device id (a GUID; anything else is `BAD_USER_INPUT`, and no call
   * is made). Becomes `aadDeviceId eq '…'`.
   */
  aadDeviceId?: InputMaybe<Scalars['ID']['input']>;
  /** Only the machine with exactly this DNS name. Becomes `computerDnsName eq '…'`. */
  computerDnsName?: InputMaybe<Scalars['String']['input']>;
  /** Only machines whose DNS name starts with this text, e.g. `ws-`. Becomes `startswith(computerDnsName,'…')`. */
  computerDnsNameStartsWith?: InputMaybe<Scalars['String']['input']>;
  /** Only machines with one of these device values. Becomes `deviceValue in ('High')`. */
  deviceValue?: InputMaybe<Array<DeviceValue>>;
  /** Only machines with one of these exposure levels. Becomes `exposureLevel in ('High','Medium')`. */
  exposureLevel?: InputMaybe<Array<ExposureLevel>>;
  /** Only machines in one of these health states. Becomes `healthStatus in ('Active','Inactive')`. */
  healthStatus?: InputMaybe<Array<HealthStatus>>;
  /**
   * Only these machine ids (40 hexadecimal characters each, any case); anything else is `BAD_USER_INPUT`, and no
   * call is made. Becomes `id in ('…','…')`.
   */
  ids?: InputMaybe<Array<Scalars['ID']['input']>>;
  /** Only machines whose last local IP address is exactly this one. Becomes `lastIpAddress eq '…'`. */
  lastIpAddress?: InputMaybe<Scalars['String']['input']>;
  /** Only machines whose `lastSeen` is at or after this time (inclusive). Becomes `lastSeen ge 2026-10-01T00:00:00Z`. */
  lastSeenAfter?: InputMaybe<Scalars['DateTime']['input']>;
  /** Only machines whose `lastSeen` is before this time (exclusive). Becomes `lastSeen lt 2026-10-31T00:00:00Z`. */
  lastSeenBefore?: InputMaybe<Scalars['DateTime']['input']>;
  /** Only machines carrying this tag (exact match). Becomes `machineTags/any(t: t eq '…')`. */
  machineTag?: InputMaybe<Scalars['String']['input']>;
  /** Only machines with one of these onboarding states. Becomes `onboardingStatus in ('Onboarded','CanBeOnboarded')`. */
  onboardingStatus?: InputMaybe<Array<OnboardingStatus>>;
  /**
   * Only machines on one of these platforms, written as in `Machine.osPlatform` (e.g. `Windows11`, `Linux`).
   * Becomes `osPlatform in ('Windows11','Linux')`.
   */
  osPlatform?: InputMaybe<Array<Scalars['String']['input']>>;
  /** Only machines in one of these device groups, by numeric id. Becomes `rbacGroupId in (140,141)`. */
  rbacGroupId?: InputMaybe<Array<Scalars['Int']['input']>>;
  /** Only machines with one of these risk scores. Becomes `riskScore in ('High','Medium')`. */
  riskScore?: InputMaybe<Array<RiskScore>>;
  /**
   * Only machines with one of these OS releases, written as in `Machine.version` (e.g. `21H2`). Becomes
   * `version in ('21H2','23H2')`.
   */
  version?: InputMaybe<Array<Scalars['String']['input']>>;
};

/** Changes to Defender data. Each costs Defender calls from its own budget and is recorded in the audit log. */
export type Mutation = {
  __typename?: 'Mutation';
  /**
   * Triage of one alert: `PATCH /api/alerts/{id}`. Every argument is checked before any call (BAD_USER_INPUT). With
   * AUTH_MODE=jwt the caller needs AUTH_WRITE_ROLE. Answers the alert as Defender shows it after the change; null
   * when Defender answers 404 (no such alert, or one outside the caller's device groups). A write with a comment is
   * never sent twice: when Defender's answer is lost (timeout, reset), the error says `extensions.outcome: "unknown"`.
   */
  updateAlert?: Maybe<Alert>;
  /**
   * The same change on several alerts (at most 200 distinct ids), by what costs least: up to 10 ids, one
   * `PATCH /api/alerts/{id}` each (100/min); more, `POST /api/alerts/batchUpdate` (10/min) per 100 ids, the alerts
   * read before (to leave out those Defender does not have) and after (a batch answers no alert). Everything is
   * checked before any call (BAD_USER_INPUT: an id malformed or listed twice, too many ids, the input as for
   * `updateAlert`), and the caller's right to write (FORBIDDEN). Answers one entry per id, in order: the alert as
   * Defender shows it after the change; null when Defender does not have it; null with an error whose `path` ends
   * with the entry's index when that alert's change failed (`extensions.outcome: "unknown"` when it may or may not
   * have been applied: check the alert before trying again).
   */
  updateAlerts?: Maybe<Array<Maybe<Alert>>>;
};


/** Changes to Defender data. Each costs Defender calls from its own budget and is recorded in the audit log. */
export type MutationUpdateAlertArgs = {
  id: Scalars['ID']['input'];
  input: UpdateAlertInput;
};


/** Changes to Defender data. Each costs Defender calls from its own budget and is recorded in the audit log. */
export type MutationUpdateAlertsArgs = {
  ids: Array<Scalars['ID']['input']>;
  input: UpdateAlertInput;
};

/**
 * Whether a machine is onboarded to Defender for Endpoint (`onboardingStatus`). Machines that are not onboarded
 * were discovered on the network by onboarded ones.
 */
export type OnboardingStatus =
  /** Discovered, supported, and not onboarded yet. */
  | 'CanBeOnboarded'
  /** Discovered, but Defender cannot tell whether it can be onboarded. */
  | 'InsufficientInfo'
  /** Onboarded: the Defender sensor runs and reports. */
  | 'Onboarded'
  /** Discovered, but its operating system cannot be onboarded. */
  | 'Unsupported';

/**
 * Where a page of a list ends, and whether another page follows. Cursors are positions in Defender's list, so
 * items that appear or disappear between two requests can shift what the next page holds.
 */
export type PageInfo = {
  __typename?: 'PageInfo';
  /**
   * The cursor of the last item on this page, to pass as `after` for the next page. Opaque: do not parse or build
   * it. Null when the page is empty.
   */
  endCursor?: Maybe<Scalars['String']['output']>;
  /** True when more items follow this page: pass `endCursor` as `after` to fetch them. */
  hasNextPage: Scalars['Boolean']['output'];
};

/**
 * The entry points. Every field says which Defender route it costs; `extensions.upstream` of each response
 * counts the calls an operation really sent (`calls`) and those answered from the cache (`cacheHits`).
 */
export type Query = {
  __typename?: 'Query';
  /**
   * One alert by its Defender id, with its evidence. Costs one call to `GET /api/alerts/{id}` unless cached. Null
   * when Defender answers 404.
   */
  alert?: Maybe<Alert>;
  /**
   * A page of alerts, in Defender's order. Costs one call to `GET /api/alerts` per page unless cached. Defender's
   * list route sends each alert's `evidence` when asked, which the gateway always does at no extra cost.
   */
  alerts: AlertConnection;
  /**
   * One machine by its Defender id or its full computer name. An id costs one call to `GET /api/machines/{id}`
   * unless cached (several ids in one operation are batched into `$filter=id in (…)` calls); a name costs one
   * `GET /api/machines?$filter=computerDnsName in (…)` call per 50 names (a name never goes into the path). Null
   * when Defender has no such machine, or one the caller may not see.
   */
  machine?: Maybe<Machine>;
  /** A page of machines, in Defender's order. Costs one call to `GET /api/machines` per page unless cached. */
  machines: MachineConnection;
  /**
   * The upstream rate-limit budget as this gateway sees it: one entry per Defender API and per window. Costs no
   * call.
   */
  rateLimit: Array<ApiBudget>;
  /**
   * One user account by name. Costs no call by itself; only the fields asked for cost theirs (see `User`). Never
   * null: Defender cannot tell an unknown account from an idle one, so an unknown account is a User with empty
   * `machines` and `alerts`.
   */
  user: User;
};


/**
 * The entry points. Every field says which Defender route it costs; `extensions.upstream` of each response
 * counts the calls an operation really sent (`calls`) and those answered from the cache (`cacheHits`).
 */
export type QueryAlertArgs = {
  id: Scalars['ID']['input'];
};


/**
 * The entry points. Every field says which Defender route it costs; `extensions.upstream` of each response
 * counts the calls an operation really sent (`calls`) and those answered from the cache (`cacheHits`).
 */
export type QueryAlertsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<AlertFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


/**
 * The entry points. Every field says which Defender route it costs; `extensions.upstream` of each response
 * counts the calls an operation really sent (`calls`) and those answered from the cache (`cacheHits`).
 */
export type QueryMachineArgs = {
  id: Scalars['ID']['input'];
};


/**
 * The entry points. Every field says which Defender route it costs; `extensions.upstream` of each response
 * counts the calls an operation really sent (`calls`) and those answered from the cache (`cacheHits`).
 */
export type QueryMachinesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<MachineFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
};


/**
 * The entry points. Every field says which Defender route it costs; `extensions.upstream` of each response
 * counts the calls an operation really sent (`calls`) and those answered from the cache (`cacheHits`).
 */
export type QueryUserArgs = {
  id: Scalars['ID']['input'];
};

/** An account named by an alert (`Alert.relatedUser`), by name only. */
export type RelatedUser = {
  __typename?: 'RelatedUser';
  /** The account's domain, e.g. `contoso`, or a machine name for a local account. Null when Defender does not say. */
  domainName?: Maybe<Scalars['String']['output']>;
  /** The account name without its domain, e.g. `user1`. */
  userName: Scalars['String']['output'];
};

/** Defender's risk assessment of a machine (`riskScore`), driven by its active alerts. */
export type RiskScore =
  /** High risk. */
  | 'High'
  /** Only informational findings. */
  | 'Informational'
  /** Low risk. */
  | 'Low'
  /** Medium risk. */
  | 'Medium'
  /** No risk found. */
  | 'None';

/**
 * Live changes, over WebSocket (`graphql-transport-ws`) or Server-Sent Events (`graphql-sse`, distinct
 * connections) on `/graphql`; a subscription sent as a plain HTTP request is refused. Defender has no push API
 * for alerts: the gateway polls `GET /api/alerts?$filter=lastUpdateTime gt …` once per `ALERT_POLL_SECONDS` per
 * upstream identity while anyone is subscribed, whatever the number of subscribers, and fans each change out to
 * every subscriber whose filter matches.
 */
export type Subscription = {
  __typename?: 'Subscription';
  /**
   * Every alert created or updated from now on that passes `filter`, within one poll interval of the change.
   * `filter` has the semantics of `Query.alerts(filter:)`, evaluated in the gateway, so subscribers with
   * different filters share one poll. Fields of `alert` resolve as in a query, through the same cache: the
   * relationships asked for cost what they cost in a query, once per change however many subscribers ask.
   */
  alertChanges: AlertChange;
};


/**
 * Live changes, over WebSocket (`graphql-transport-ws`) or Server-Sent Events (`graphql-sse`, distinct
 * connections) on `/graphql`; a subscription sent as a plain HTTP request is refused. Defender has no push API
 * for alerts: the gateway polls `GET /api/alerts?$filter=lastUpdateTime gt …` once per `ALERT_POLL_SECONDS` per
 * upstream identity while anyone is subscribed, whatever the number of subscribers, and fans each change out to
 * every subscriber whose filter matches.
 */
export type SubscriptionAlertChangesArgs = {
  filter?: InputMaybe<AlertFilter>;
};

/** What to change on an alert: at least one field. Left-out fields keep their values. */
export type UpdateAlertInput = {
  /** Who owns the alert now (an email address or name; at most 256 characters). */
  assignedTo?: InputMaybe<Scalars['String']['input']>;
  /** Whether the alert is a real threat. */
  classification?: InputMaybe<AlertClassification>;
  /** A comment appended to the alert's comments, signed by the caller's identity (non-blank, at most 4,000 characters). */
  comment?: InputMaybe<Scalars['String']['input']>;
  /** What the alert turned out to be. */
  determination?: InputMaybe<AlertDetermination>;
  /** The new status: NEW, IN_PROGRESS or RESOLVED (UNKNOWN is not a status one can set). */
  status?: InputMaybe<AlertStatus>;
};

/**
 * A user account Defender saw log on to machines: a domain account (`contoso\user1`) or a local account of one
 * machine (`se-pov-desktop\chris phillips`).
 *
 * A User reached through `Machine.logonUsers` is a full record. A User from `Alert.user` or `Query.user` is known
 * by its name: `id`, `accountName`, `accountDomain`, `machines` and `alerts` cost nothing for the user itself, and
 * its other properties are loaded when asked for: from `GET /api/alerts/{id}/user` for an alert's user; for a
 * user from `Query.user`, from `GET /api/users/{accountName}/machines` and one `GET /api/machines/{id}/logonusers`
 * (null when no machine knows the account).
 *
 * A federation entity: other subgraphs reference a user by `id` (`domain\name`) or by `accountName` (the bare
 * name, as a directory knows it). Either costs no call, like `Query.user`: the reference is the name, and only
 * the fields asked for cost theirs.
 */
export type User = {
  __typename?: 'User';
  /**
   * The account's domain, e.g. `contoso`, or the machine name for a local account. Null when not known, e.g. for
   * a User looked up by a bare account name.
   */
  accountDomain?: Maybe<Scalars['String']['output']>;
  /**
   * The account name without its domain, e.g. `user1`; may contain spaces. Defender's `/api/users/{id}/…` routes
   * look accounts up by this name.
   */
  accountName: Scalars['String']['output'];
  /**
   * The account's Windows security identifier, e.g. `S-1-5-21-1234567890-1234567890-1234567890-1001`. Null for
   * local accounts, and when not known (see `User`).
   */
  accountSid?: Maybe<Scalars['String']['output']>;
  /**
   * Alerts that involve this account. Costs one call to `GET /api/users/{accountName}/alerts` unless cached.
   * Defender looks the account up by `accountName` alone, not by its domain, and answers an empty list for an
   * account it does not know.
   * Null only when it failed, together with an error at this field's path; the user and its other fields keep
   * their data.
   */
  alerts?: Maybe<Array<Alert>>;
  /** When Defender first saw the account log on (Defender sends whole seconds). Null when not known (see `User`). */
  firstSeen?: Maybe<Scalars['DateTime']['output']>;
  /**
   * Defender's user id, `domain\name`, e.g. `contoso\user1` (in JSON strings the backslash is escaped:
   * `"contoso\\user1"`). The domain may be a machine name for a local account, and the name may contain spaces.
   * For a User from `Query.user` looked up without a domain, the id is the account name alone.
   */
  id: Scalars['ID']['output'];
  /** True when the account is a domain administrator. Null when not known (see `User`). */
  isDomainAdmin?: Maybe<Scalars['Boolean']['output']>;
  /**
   * True when the account only ever logged on over the network, never interactively. Null when not known (see
   * `User`).
   */
  isOnlyNetworkUser?: Maybe<Scalars['Boolean']['output']>;
  /** When Defender last saw the account log on (Defender sends whole seconds). Null when not known (see `User`). */
  lastSeen?: Maybe<Scalars['DateTime']['output']>;
  /** The `id` of the machine this account logs on to least. Null when not known (see `User`). */
  leastPrevalentMachineId?: Maybe<Scalars['String']['output']>;
  /** Number of machines the account logged on to. Null when not known (see `User`). */
  logOnMachinesCount?: Maybe<Scalars['Int']['output']>;
  /**
   * How the account logged on, as one string: one logon type such as `Interactive` or `Network`, or several
   * separated by a comma and a space (`Network, RemoteInteractive`). Not a list: Defender sends a single string.
   * Null when not known (see `User`).
   */
  logonTypes?: Maybe<Scalars['String']['output']>;
  /**
   * Machines this account logged on to. Costs one call to `GET /api/users/{accountName}/machines` unless cached.
   * Defender looks the account up by `accountName` alone, not by its domain, and answers an empty list for an
   * account it does not know.
   * Null only when it failed, together with an error at this field's path; the user and its other fields keep
   * their data.
   */
  machines?: Maybe<Array<Machine>>;
  /** The `id` of the machine this account logs on to most. Null when not known (see `User`). */
  mostPrevalentMachineId?: Maybe<Scalars['String']['output']>;
};


/**
 * A user account Defender saw log on to machines: a domain account (`contoso\user1`) or a local account of one
 * machine (`se-pov-desktop\chris phillips`).
 *
 * A User reached through `Machine.logonUsers` is a full record. A User from `Alert.user` or `Query.user` is known
 * by its name: `id`, `accountName`, `accountDomain`, `machines` and `alerts` cost nothing for the user itself, and
 * its other properties are loaded when asked for: from `GET /api/alerts/{id}/user` for an alert's user; for a
 * user from `Query.user`, from `GET /api/users/{accountName}/machines` and one `GET /api/machines/{id}/logonusers`
 * (null when no machine knows the account).
 *
 * A federation entity: other subgraphs reference a user by `id` (`domain\name`) or by `accountName` (the bare
 * name, as a directory knows it). Either costs no call, like `Query.user`: the reference is the name, and only
 * the fields asked for cost theirs.
 */
export type UserAlertsArgs = {
  first?: InputMaybe<Scalars['Int']['input']>;
};


/**
 * A user account Defender saw log on to machines: a domain account (`contoso\user1`) or a local account of one
 * machine (`se-pov-desktop\chris phillips`).
 *
 * A User reached through `Machine.logonUsers` is a full record. A User from `Alert.user` or `Query.user` is known
 * by its name: `id`, `accountName`, `accountDomain`, `machines` and `alerts` cost nothing for the user itself, and
 * its other properties are loaded when asked for: from `GET /api/alerts/{id}/user` for an alert's user; for a
 * user from `Query.user`, from `GET /api/users/{accountName}/machines` and one `GET /api/machines/{id}/logonusers`
 * (null when no machine knows the account).
 *
 * A federation entity: other subgraphs reference a user by `id` (`domain\name`) or by `accountName` (the bare
 * name, as a directory knows it). Either costs no call, like `Query.user`: the reference is the name, and only
 * the fields asked for cost theirs.
 */
export type UserMachinesArgs = {
  first?: InputMaybe<Scalars['Int']['input']>;
};

/** Details of a machine that is a cloud virtual machine. */
export type VmMetadata = {
  __typename?: 'VmMetadata';
  /**
   * The cloud provider, e.g. `Azure`. Microsoft does not document the casing this API uses, so compare it
   * without regard to case. Null when Defender does not say.
   */
  cloudProvider?: Maybe<Scalars['String']['output']>;
  /**
   * The cloud resource id of the virtual machine; on Azure its Azure Resource Manager id
   * (`/subscriptions/…/resourceGroups/…/providers/Microsoft.Compute/virtualMachines/…`). Null when Defender does
   * not say.
   */
  resourceId?: Maybe<Scalars['String']['output']>;
  /** The cloud subscription the virtual machine belongs to (a GUID on Azure). Null when Defender does not say. */
  subscriptionId?: Maybe<Scalars['String']['output']>;
  /** The cloud provider's id of the virtual machine. Null when Defender does not say. */
  vmId?: Maybe<Scalars['String']['output']>;
};

export type WithIndex<TObject> = TObject & Record<string, any>;
export type ResolversObject<TObject> = WithIndex<TObject>;

export type ResolverTypeWrapper<T> = Promise<T> | T;

export type ReferenceResolver<TResult, TReference, TContext> = (
      reference: TReference,
      context: TContext,
      info: GraphQLResolveInfo
    ) => Promise<TResult> | TResult;

      type ScalarCheck<T, S> = S extends true ? T : NullableCheck<T, S>;
      type NullableCheck<T, S> = Maybe<T> extends T ? Maybe<ListCheck<NonNullable<T>, S>> : ListCheck<T, S>;
      type ListCheck<T, S> = T extends (infer U)[] ? NullableCheck<U, S>[] : GraphQLRecursivePick<T, S>;
      export type GraphQLRecursivePick<T, S> = { [K in keyof T & keyof S]: ScalarCheck<T[K], S[K]> };
    

export type ResolverWithResolve<TResult, TParent, TContext, TArgs> = {
  resolve: ResolverFn<TResult, TParent, TContext, TArgs>;
};
export type Resolver<TResult, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> = ResolverFn<TResult, TParent, TContext, TArgs> | ResolverWithResolve<TResult, TParent, TContext, TArgs>;

export type ResolverFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => Promise<TResult> | TResult;

export type SubscriptionSubscribeFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => AsyncIterable<TResult> | Promise<AsyncIterable<TResult>>;

export type SubscriptionResolveFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => TResult | Promise<TResult>;

export interface SubscriptionSubscriberObject<TResult, TKey extends string, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<{ [key in TKey]: TResult }, TParent, TContext, TArgs>;
  resolve?: SubscriptionResolveFn<TResult, { [key in TKey]: TResult }, TContext, TArgs>;
}

export interface SubscriptionResolverObject<TResult, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<any, TParent, TContext, TArgs>;
  resolve: SubscriptionResolveFn<TResult, any, TContext, TArgs>;
}

export type SubscriptionObject<TResult, TKey extends string, TParent, TContext, TArgs> =
  | SubscriptionSubscriberObject<TResult, TKey, TParent, TContext, TArgs>
  | SubscriptionResolverObject<TResult, TParent, TContext, TArgs>;

export type SubscriptionResolver<TResult, TKey extends string, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> =
  | ((...args: any[]) => SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>)
  | SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>;

export type TypeResolveFn<TTypes, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (
  parent: TParent,
  context: TContext,
  info: GraphQLResolveInfo
) => Maybe<TTypes> | Promise<Maybe<TTypes>>;

export type IsTypeOfResolverFn<T = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (obj: T, context: TContext, info: GraphQLResolveInfo) => boolean | Promise<boolean>;

export type NextResolverFn<T> = () => Promise<T>;

export type DirectiveResolverFn<TResult = Record<PropertyKey, never>, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> = (
  next: NextResolverFn<TResult>,
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => TResult | Promise<TResult>;

/** Mapping of federation types */
export type FederationTypes = ResolversObject<{
  Alert: Alert;
  Machine: Machine;
  User: User;
}>;

/** Mapping of federation reference types */
export type FederationReferenceTypes = ResolversObject<{
  Alert:
    ( { __typename: 'Alert' }
    & GraphQLRecursivePick<FederationTypes['Alert'], {"id":true}> );
  Machine:
    ( { __typename: 'Machine' }
    & ( GraphQLRecursivePick<FederationTypes['Machine'], {"id":true}>
        | GraphQLRecursivePick<FederationTypes['Machine'], {"computerDnsName":true}> ) );
  User:
    ( { __typename: 'User' }
    & ( GraphQLRecursivePick<FederationTypes['User'], {"id":true}>
        | GraphQLRecursivePick<FederationTypes['User'], {"accountName":true}> ) );
}>;



/** Mapping between all available schema types and the resolvers types */
export type ResolversTypes = ResolversObject<{
  Alert: ResolverTypeWrapper<AlertDto>;
  String: ResolverTypeWrapper<Scalars['String']['output']>;
  ID: ResolverTypeWrapper<Scalars['ID']['output']>;
  Float: ResolverTypeWrapper<Scalars['Float']['output']>;
  AlertChange: ResolverTypeWrapper<Omit<AlertChange, 'alert'> & { alert: ResolversTypes['Alert'] }>;
  AlertChangeKind: AlertChangeKind;
  AlertClassification: ResolverTypeWrapper<AlertClassification>;
  AlertComment: ResolverTypeWrapper<AlertCommentDto>;
  AlertConnection: ResolverTypeWrapper<ConnectionParent<AlertDto>>;
  AlertDetermination: ResolverTypeWrapper<AlertDetermination>;
  AlertEdge: ResolverTypeWrapper<Omit<AlertEdge, 'node'> & { node: ResolversTypes['Alert'] }>;
  AlertEvidence: ResolverTypeWrapper<AlertEvidenceDto>;
  AlertFilter: AlertFilter;
  AlertSeverity: ResolverTypeWrapper<AlertSeverity>;
  AlertStatus: ResolverTypeWrapper<AlertStatus>;
  ApiBudget: ResolverTypeWrapper<ApiBudget>;
  Int: ResolverTypeWrapper<Scalars['Int']['output']>;
  DateTime: ResolverTypeWrapper<Scalars['DateTime']['output']>;
  DetectionSource: ResolverTypeWrapper<DetectionSource>;
  DeviceValue: ResolverTypeWrapper<DeviceValue>;
  ExposureLevel: ResolverTypeWrapper<ExposureLevel>;
  HealthStatus: ResolverTypeWrapper<HealthStatus>;
  InvestigationState: ResolverTypeWrapper<InvestigationState>;
  IpAddress: ResolverTypeWrapper<IpAddressDto>;
  LoggedOnUser: ResolverTypeWrapper<LoggedOnUserDto>;
  Machine: ResolverTypeWrapper<MachineParent>;
  Boolean: ResolverTypeWrapper<Scalars['Boolean']['output']>;
  MachineConnection: ResolverTypeWrapper<ConnectionParent<MachineParent>>;
  MachineEdge: ResolverTypeWrapper<Omit<MachineEdge, 'node'> & { node: ResolversTypes['Machine'] }>;
  MachineFilter: MachineFilter;
  Mutation: ResolverTypeWrapper<Record<PropertyKey, never>>;
  OnboardingStatus: ResolverTypeWrapper<OnboardingStatus>;
  PageInfo: ResolverTypeWrapper<PageInfo>;
  Query: ResolverTypeWrapper<Record<PropertyKey, never>>;
  RelatedUser: ResolverTypeWrapper<RelatedUserDto>;
  RiskScore: ResolverTypeWrapper<RiskScore>;
  Subscription: ResolverTypeWrapper<Record<PropertyKey, never>>;
  UpdateAlertInput: UpdateAlertInput;
  User: ResolverTypeWrapper<UserParent>;
  VmMetadata: ResolverTypeWrapper<VmMetadataDto>;
}>;

/** Mapping between all available schema types and the resolvers parents */
export type ResolversParentTypes = ResolversObject<{
  Alert: AlertDto;
  String: Scalars['String']['output'];
  ID: Scalars['ID']['output'];
  Float: Scalars['Float']['output'];
  AlertChange: Omit<AlertChange, 'alert'> & { alert: ResolversParentTypes['Alert'] };
  AlertComment: AlertCommentDto;
  AlertConnection: ConnectionParent<AlertDto>;
  AlertEdge: Omit<AlertEdge, 'node'> & { node: ResolversParentTypes['Alert'] };
  AlertEvidence: AlertEvidenceDto;
  AlertFilter: AlertFilter;
  ApiBudget: ApiBudget;
  Int: Scalars['Int']['output'];
  DateTime: Scalars['DateTime']['output'];
  IpAddress: IpAddressDto;
  LoggedOnUser: LoggedOnUserDto;
  Machine: MachineParent;
  Boolean: Scalars['Boolean']['output'];
  MachineConnection: ConnectionParent<MachineParent>;
  MachineEdge: Omit<MachineEdge, 'node'> & { node: ResolversParentTypes['Machine'] };
  MachineFilter: MachineFilter;
  Mutation: Record<PropertyKey, never>;
  PageInfo: PageInfo;
  Query: Record<PropertyKey, never>;
  RelatedUser: RelatedUserDto;
  Subscription: Record<PropertyKey, never>;
  UpdateAlertInput: UpdateAlertInput;
  User: UserParent;
  VmMetadata: VmMetadataDto;
}>;

export type AlertResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Alert'] = ResolversParentTypes['Alert'], FederationReferenceType extends FederationReferenceTypes['Alert'] = FederationReferenceTypes['Alert']> = ResolversObject<{
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Alert']> | FederationReferenceType, FederationReferenceType, ContextType>;
  aadTenantId?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  alertCreationTime?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  assignedTo?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  category?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  classification?: Resolver<Maybe<ResolversTypes['AlertClassification']>, ParentType, ContextType>;
  comments?: Resolver<Array<ResolversTypes['AlertComment']>, ParentType, ContextType>;
  computerDnsName?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  description?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  detectionSource?: Resolver<Maybe<ResolversTypes['DetectionSource']>, ParentType, ContextType>;
  detectorId?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  determination?: Resolver<Maybe<ResolversTypes['AlertDetermination']>, ParentType, ContextType>;
  domains?: Resolver<Array<ResolversTypes['String']>, ParentType, ContextType>;
  evidence?: Resolver<Maybe<Array<ResolversTypes['AlertEvidence']>>, ParentType, ContextType>;
  firstEventTime?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  incidentId?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  investigationId?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  investigationState?: Resolver<Maybe<ResolversTypes['InvestigationState']>, ParentType, ContextType>;
  lastEventTime?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  lastUpdateTime?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  loggedOnUsers?: Resolver<Array<ResolversTypes['LoggedOnUser']>, ParentType, ContextType>;
  machine?: Resolver<Maybe<ResolversTypes['Machine']>, ParentType, ContextType>;
  machineId?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  mitreTechniques?: Resolver<Array<ResolversTypes['String']>, ParentType, ContextType>;
  rbacGroupName?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  relatedUser?: Resolver<Maybe<ResolversTypes['RelatedUser']>, ParentType, ContextType>;
  resolvedTime?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  severity?: Resolver<ResolversTypes['AlertSeverity'], ParentType, ContextType>;
  status?: Resolver<ResolversTypes['AlertStatus'], ParentType, ContextType>;
  threatFamilyName?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  threatName?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  title?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  user?: Resolver<Maybe<ResolversTypes['User']>, ParentType, ContextType>;
}>;

export type AlertChangeResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['AlertChange'] = ResolversParentTypes['AlertChange']> = ResolversObject<{
  alert?: Resolver<ResolversTypes['Alert'], ParentType, ContextType>;
  kind?: Resolver<ResolversTypes['AlertChangeKind'], ParentType, ContextType>;
}>;

export type AlertClassificationResolvers = { FALSE_POSITIVE: 'FalsePositive', INFORMATIONAL_EXPECTED_ACTIVITY: 'InformationalExpectedActivity', TRUE_POSITIVE: 'TruePositive' };

export type AlertCommentResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['AlertComment'] = ResolversParentTypes['AlertComment']> = ResolversObject<{
  comment?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  createdBy?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  createdTime?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
}>;

export type AlertConnectionResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['AlertConnection'] = ResolversParentTypes['AlertConnection']> = ResolversObject<{
  edges?: Resolver<Array<ResolversTypes['AlertEdge']>, ParentType, ContextType>;
  nodes?: Resolver<Array<ResolversTypes['Alert']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
}>;

export type AlertDeterminationResolvers = { CLEAN: 'Clean', COMPROMISED_ACCOUNT: 'CompromisedAccount', COMPROMISED_USER: 'CompromisedUser', CONFIRMED_ACTIVITY: 'ConfirmedActivity', CONFIRMED_USER_ACTIVITY: 'ConfirmedUserActivity', INSUFFICIENT_DATA: 'InsufficientData', LINE_OF_BUSINESS_APPLICATION: 'LineOfBusinessApplication', MALICIOUS_USER_ACTIVITY: 'MaliciousUserActivity', MALWARE: 'Malware', MULTI_STAGED_ATTACK: 'MultiStagedAttack', NOT_MALICIOUS: 'NotMalicious', OTHER: 'Other', PHISHING: 'Phishing', SECURITY_TESTING: 'SecurityTesting', UNWANTED_SOFTWARE: 'UnwantedSoftware' };

export type AlertEdgeResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['AlertEdge'] = ResolversParentTypes['AlertEdge']> = ResolversObject<{
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['Alert'], ParentType, ContextType>;
}>;

export type AlertEvidenceResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['AlertEvidence'] = ResolversParentTypes['AlertEvidence']> = ResolversObject<{
  aadUserId?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  accountName?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  detectionStatus?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  domainName?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  entityType?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  evidenceCreationTime?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  fileName?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  filePath?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  ipAddress?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  parentProcessCreationTime?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  parentProcessFileName?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  parentProcessFilePath?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  parentProcessId?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  processCommandLine?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  processCreationTime?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  processId?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  registryHive?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  registryKey?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  registryValue?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  registryValueName?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  registryValueType?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  sha1?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  sha256?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  url?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  userPrincipalName?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  userSid?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
}>;

export type AlertSeverityResolvers = { HIGH: 'High', INFORMATIONAL: 'Informational', LOW: 'Low', MEDIUM: 'Medium', UN_SPECIFIED: 'UnSpecified' };

export type AlertStatusResolvers = { IN_PROGRESS: 'InProgress', NEW: 'New', RESOLVED: 'Resolved', UNKNOWN: 'Unknown' };

export type ApiBudgetResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['ApiBudget'] = ResolversParentTypes['ApiBudget']> = ResolversObject<{
  api?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  limit?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  remaining?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  resetAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  windowSeconds?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export interface DateTimeScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['DateTime'], any> {
  name: 'DateTime';
}

export type DetectionSourceResolvers = { AUTOMATED_INVESTIGATION: 'AutomatedInvestigation', CUSTOMER_TI: 'CustomerTI', CUSTOM_DETECTION: 'CustomDetection', MTP: 'MTP', OFFICE_ATP: 'OfficeATP', THIRD_PARTY_SENSORS: 'ThirdPartySensors', THREAT_EXPERTS: 'ThreatExperts', WINDOWS_DEFENDER_ATP: 'WindowsDefenderAtp', WINDOWS_DEFENDER_AV: 'WindowsDefenderAv', WINDOWS_DEFENDER_SMART_SCREEN: 'WindowsDefenderSmartScreen' };

export type DeviceValueResolvers = { HIGH: 'High', LOW: 'Low', NORMAL: 'Normal' };

export type ExposureLevelResolvers = { HIGH: 'High', LOW: 'Low', MEDIUM: 'Medium', NONE: 'None' };

export type HealthStatusResolvers = { ACTIVE: 'Active', IMPAIRED_COMMUNICATION: 'ImpairedCommunication', INACTIVE: 'Inactive', NO_SENSOR_DATA: 'NoSensorData', NO_SENSOR_DATA_IMPAIRED_COMMUNICATION: 'NoSensorDataImpairedCommunication', UNKNOWN: 'Unknown' };

export type InvestigationStateResolvers = { BENIGN: 'Benign', FAILED: 'Failed', INNER_FAILURE: 'InnerFailure', PARTIALLY_INVESTIGATED: 'PartiallyInvestigated', PARTIALLY_REMEDIATED: 'PartiallyRemediated', PENDING_APPROVAL: 'PendingApproval', PENDING_RESOURCE: 'PendingResource', PREEXISTING_ALERT: 'PreexistingAlert', QUEUED: 'Queued', RUNNING: 'Running', SUCCESSFULLY_REMEDIATED: 'SuccessfullyRemediated', SUPPRESSED_ALERT: 'SuppressedAlert', TERMINATED: 'Terminated', TERMINATED_BY_SYSTEM: 'TerminatedBySystem', TERMINATED_BY_USER: 'TerminatedByUser', UNKNOWN: 'Unknown', UNSUPPORTED_ALERT_TYPE: 'UnsupportedAlertType', UNSUPPORTED_OS: 'UnsupportedOs' };

export type IpAddressResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['IpAddress'] = ResolversParentTypes['IpAddress']> = ResolversObject<{
  ipAddress?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  macAddress?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  operationalStatus?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  type?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
}>;

export type LoggedOnUserResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['LoggedOnUser'] = ResolversParentTypes['LoggedOnUser']> = ResolversObject<{
  accountName?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  domainName?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
}>;

export type MachineResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Machine'] = ResolversParentTypes['Machine'], FederationReferenceType extends FederationReferenceTypes['Machine'] = FederationReferenceTypes['Machine']> = ResolversObject<{
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Machine']> | FederationReferenceType, FederationReferenceType, ContextType>;
  aadDeviceId?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  agentVersion?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  alerts?: Resolver<Maybe<Array<ResolversTypes['Alert']>>, ParentType, ContextType, Partial<MachineAlertsArgs>>;
  computerDnsName?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  defenderAvStatus?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  deviceValue?: Resolver<Maybe<ResolversTypes['DeviceValue']>, ParentType, ContextType>;
  exclusionReason?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  exposureLevel?: Resolver<Maybe<ResolversTypes['ExposureLevel']>, ParentType, ContextType>;
  firstSeen?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  healthStatus?: Resolver<ResolversTypes['HealthStatus'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  ipAddresses?: Resolver<Array<ResolversTypes['IpAddress']>, ParentType, ContextType>;
  isAadJoined?: Resolver<Maybe<ResolversTypes['Boolean']>, ParentType, ContextType>;
  isExcluded?: Resolver<Maybe<ResolversTypes['Boolean']>, ParentType, ContextType>;
  isPotentialDuplication?: Resolver<Maybe<ResolversTypes['Boolean']>, ParentType, ContextType>;
  lastExternalIpAddress?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  lastIpAddress?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  lastSeen?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  logonUsers?: Resolver<Maybe<Array<ResolversTypes['User']>>, ParentType, ContextType, Partial<MachineLogonUsersArgs>>;
  machineTags?: Resolver<Array<ResolversTypes['String']>, ParentType, ContextType>;
  managedBy?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  managedByStatus?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  mergedIntoMachineId?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  onboardingStatus?: Resolver<Maybe<ResolversTypes['OnboardingStatus']>, ParentType, ContextType>;
  osArchitecture?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  osBuild?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  osPlatform?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  osProcessor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  osVersion?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  rbacGroupId?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  rbacGroupName?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  riskScore?: Resolver<Maybe<ResolversTypes['RiskScore']>, ParentType, ContextType>;
  version?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  vmMetadata?: Resolver<Maybe<ResolversTypes['VmMetadata']>, ParentType, ContextType>;
}>;

export type MachineConnectionResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['MachineConnection'] = ResolversParentTypes['MachineConnection']> = ResolversObject<{
  edges?: Resolver<Array<ResolversTypes['MachineEdge']>, ParentType, ContextType>;
  nodes?: Resolver<Array<ResolversTypes['Machine']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
}>;

export type MachineEdgeResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['MachineEdge'] = ResolversParentTypes['MachineEdge']> = ResolversObject<{
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['Machine'], ParentType, ContextType>;
}>;

export type MutationResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Mutation'] = ResolversParentTypes['Mutation']> = ResolversObject<{
  updateAlert?: Resolver<Maybe<ResolversTypes['Alert']>, ParentType, ContextType, RequireFields<MutationUpdateAlertArgs, 'id' | 'input'>>;
  updateAlerts?: Resolver<Maybe<Array<Maybe<ResolversTypes['Alert']>>>, ParentType, ContextType, RequireFields<MutationUpdateAlertsArgs, 'ids' | 'input'>>;
}>;

export type OnboardingStatusResolvers = { CAN_BE_ONBOARDED: 'CanBeOnboarded', INSUFFICIENT_INFO: 'InsufficientInfo', ONBOARDED: 'Onboarded', UNSUPPORTED: 'Unsupported' };

export type PageInfoResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['PageInfo'] = ResolversParentTypes['PageInfo']> = ResolversObject<{
  endCursor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  hasNextPage?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
}>;

export type QueryResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Query'] = ResolversParentTypes['Query']> = ResolversObject<{
  alert?: Resolver<Maybe<ResolversTypes['Alert']>, ParentType, ContextType, RequireFields<QueryAlertArgs, 'id'>>;
  alerts?: Resolver<ResolversTypes['AlertConnection'], ParentType, ContextType, RequireFields<QueryAlertsArgs, 'first'>>;
  machine?: Resolver<Maybe<ResolversTypes['Machine']>, ParentType, ContextType, RequireFields<QueryMachineArgs, 'id'>>;
  machines?: Resolver<ResolversTypes['MachineConnection'], ParentType, ContextType, RequireFields<QueryMachinesArgs, 'first'>>;
  rateLimit?: Resolver<Array<ResolversTypes['ApiBudget']>, ParentType, ContextType>;
  user?: Resolver<ResolversTypes['User'], ParentType, ContextType, RequireFields<QueryUserArgs, 'id'>>;
}>;

export type RelatedUserResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['RelatedUser'] = ResolversParentTypes['RelatedUser']> = ResolversObject<{
  domainName?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  userName?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type RiskScoreResolvers = { HIGH: 'High', INFORMATIONAL: 'Informational', LOW: 'Low', MEDIUM: 'Medium', NONE: 'None' };

export type SubscriptionResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Subscription'] = ResolversParentTypes['Subscription']> = ResolversObject<{
  alertChanges?: SubscriptionResolver<ResolversTypes['AlertChange'], "alertChanges", ParentType, ContextType, Partial<SubscriptionAlertChangesArgs>>;
}>;

export type UserResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['User'] = ResolversParentTypes['User'], FederationReferenceType extends FederationReferenceTypes['User'] = FederationReferenceTypes['User']> = ResolversObject<{
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['User']> | FederationReferenceType, FederationReferenceType, ContextType>;
  accountDomain?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  accountName?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  accountSid?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  alerts?: Resolver<Maybe<Array<ResolversTypes['Alert']>>, ParentType, ContextType, Partial<UserAlertsArgs>>;
  firstSeen?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  isDomainAdmin?: Resolver<Maybe<ResolversTypes['Boolean']>, ParentType, ContextType>;
  isOnlyNetworkUser?: Resolver<Maybe<ResolversTypes['Boolean']>, ParentType, ContextType>;
  lastSeen?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  leastPrevalentMachineId?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  logOnMachinesCount?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  logonTypes?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  machines?: Resolver<Maybe<Array<ResolversTypes['Machine']>>, ParentType, ContextType, Partial<UserMachinesArgs>>;
  mostPrevalentMachineId?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
}>;

export type VmMetadataResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['VmMetadata'] = ResolversParentTypes['VmMetadata']> = ResolversObject<{
  cloudProvider?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  resourceId?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  subscriptionId?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  vmId?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
}>;

export type Resolvers<ContextType = GraphQLContext> = ResolversObject<{
  Alert?: AlertResolvers<ContextType>;
  AlertChange?: AlertChangeResolvers<ContextType>;
  AlertClassification?: AlertClassificationResolvers;
  AlertComment?: AlertCommentResolvers<ContextType>;
  AlertConnection?: AlertConnectionResolvers<ContextType>;
  AlertDetermination?: AlertDeterminationResolvers;
  AlertEdge?: AlertEdgeResolvers<ContextType>;
  AlertEvidence?: AlertEvidenceResolvers<ContextType>;
  AlertSeverity?: AlertSeverityResolvers;
  AlertStatus?: AlertStatusResolvers;
  ApiBudget?: ApiBudgetResolvers<ContextType>;
  DateTime?: GraphQLScalarType;
  DetectionSource?: DetectionSourceResolvers;
  DeviceValue?: DeviceValueResolvers;
  ExposureLevel?: ExposureLevelResolvers;
  HealthStatus?: HealthStatusResolvers;
  InvestigationState?: InvestigationStateResolvers;
  IpAddress?: IpAddressResolvers<ContextType>;
  LoggedOnUser?: LoggedOnUserResolvers<ContextType>;
  Machine?: MachineResolvers<ContextType>;
  MachineConnection?: MachineConnectionResolvers<ContextType>;
  MachineEdge?: MachineEdgeResolvers<ContextType>;
  Mutation?: MutationResolvers<ContextType>;
  OnboardingStatus?: OnboardingStatusResolvers;
  PageInfo?: PageInfoResolvers<ContextType>;
  Query?: QueryResolvers<ContextType>;
  RelatedUser?: RelatedUserResolvers<ContextType>;
  RiskScore?: RiskScoreResolvers;
  Subscription?: SubscriptionResolvers<ContextType>;
  User?: UserResolvers<ContextType>;
  VmMetadata?: VmMetadataResolvers<ContextType>;
}>;

