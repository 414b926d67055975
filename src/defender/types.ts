/**
 * The JSON shapes Defender for Endpoint sends, as seen on the wire (see `docs/defender-api.md` §1).
 * Keys are listed in the live key order; the simulator emits them in exactly this order.
 * Enum-like properties are open strings on the wire; the unions below list the documented values.
 */

export type HealthStatus =
  | 'Active'
  | 'Inactive'
  | 'ImpairedCommunication'
  | 'NoSensorData'
  | 'NoSensorDataImpairedCommunication'
  | 'Unknown';
export type DeviceValue = 'Normal' | 'Low' | 'High';
export type RiskScore = 'None' | 'Informational' | 'Low' | 'Medium' | 'High';
export type ExposureLevel = 'None' | 'Low' | 'Medium' | 'High';
export type OnboardingStatus = 'Onboarded' | 'CanBeOnboarded' | 'Unsupported' | 'InsufficientInfo';

export type AlertSeverity = 'UnSpecified' | 'Informational' | 'Low' | 'Medium' | 'High';
export type AlertStatus = 'Unknown' | 'New' | 'InProgress' | 'Resolved';
export type AlertClassification = 'TruePositive' | 'InformationalExpectedActivity' | 'FalsePositive';
export type AlertDetermination =
  | 'MultiStagedAttack'
  | 'MaliciousUserActivity'
  | 'CompromisedUser'
  | 'CompromisedAccount'
  | 'Malware'
  | 'Phishing'
  | 'UnwantedSoftware'
  | 'SecurityTesting'
  | 'LineOfBusinessApplication'
  | 'ConfirmedUserActivity'
  | 'ConfirmedActivity'
  | 'Clean'
  | 'NotMalicious'
  | 'InsufficientData'
  | 'Other';
export type InvestigationState =
  | 'Unknown'
  | 'Terminated'
  | 'SuccessfullyRemediated'
  | 'Benign'
  | 'Failed'
  | 'PartiallyRemediated'
  | 'Running'
  | 'PendingApproval'
  | 'PendingResource'
  | 'PartiallyInvestigated'
  | 'TerminatedByUser'
  | 'TerminatedBySystem'
  | 'Queued'
  | 'InnerFailure'
  | 'PreexistingAlert'
  | 'UnsupportedOs'
  | 'UnsupportedAlertType'
  | 'SuppressedAlert';
export type DetectionSource =
  | 'WindowsDefenderAtp'
  | 'WindowsDefenderAv'
  | 'WindowsDefenderSmartScreen'
  | 'AutomatedInvestigation'
  | 'CustomDetection'
  | 'CustomerTI'
  | 'MTP'
  | 'OfficeATP'
  | 'ThreatExperts'
  | 'ThirdPartySensors';

/** ISO-8601 UTC date-time string, e.g. `2026-10-31T08:15:02.1234567Z`. */
export type DateTimeString = string;

export interface IpAddressDto {
  ipAddress: string;
  /** 12 upper-case hex characters, no separators; null for loopback. */
  macAddress: string | null;
  type: string;
  operationalStatus: 'Up' | 'Down';
}

export interface VmMetadataDto {
  vmId: string;
  cloudProvider: string;
  resourceId: string;
  subscriptionId: string;
}

export interface MachineDto {
  /** 40 lower-case hex characters. */
  id: string;
  mergedIntoMachineId: string | null;
  isPotentialDuplication: boolean;
  isExcluded: boolean;
  exclusionReason: string | null;
  computerDnsName: string | null;
  firstSeen: DateTimeString;
  lastSeen: DateTimeString;
  osPlatform: string;
  osVersion: string | null;
  osProcessor: string;
  version: string | null;
  lastIpAddress: string;
  lastExternalIpAddress: string;
  agentVersion: string;
  osBuild: number | null;
  healthStatus: HealthStatus;
  deviceValue: DeviceValue | null;
  rbacGroupId: number;
  rbacGroupName: string | null;
  riskScore: RiskScore | null;
  exposureLevel: ExposureLevel | null;
  isAadJoined: boolean;
  aadDeviceId: string | null;
  machineTags: string[];
  defenderAvStatus: string;
  onboardingStatus: OnboardingStatus;
  osArchitecture: string;
  managedBy: string;
  managedByStatus: string;
  ipAddresses: IpAddressDto[];
  vmMetadata: VmMetadataDto | null;
}

export interface UserDto {
  /** `domain\name`; the domain may be a local machine name, the name may contain spaces. */
  id: string;
  accountName: string;
  accountDomain: string;
  accountSid: string | null;
  firstSeen: DateTimeString;
  lastSeen: DateTimeString;
  mostPrevalentMachineId: string | null;
  leastPrevalentMachineId: string | null;
  /** A string, not an array: one logon type or several separated by `, `. */
  logonTypes: string;
  logOnMachinesCount: number | null;
  isDomainAdmin: boolean;
  isOnlyNetworkUser: boolean | null;
}

export interface AlertCommentDto {
  comment: string;
  createdBy: string;
  createdTime: DateTimeString;
}

export interface AlertEvidenceDto {
  entityType: string;
  evidenceCreationTime: DateTimeString | null;
  sha1: string | null;
  sha256: string | null;
  fileName: string | null;
  filePath: string | null;
  processId: number | null;
  processCommandLine: string | null;
  processCreationTime: DateTimeString | null;
  parentProcessId: number | null;
  parentProcessCreationTime: DateTimeString | null;
  parentProcessFileName: string | null;
  parentProcessFilePath: string | null;
  ipAddress: string | null;
  url: string | null;
  registryKey: string | null;
  registryHive: string | null;
  registryValueType: string | null;
  registryValue: string | null;
  registryValueName: string | null;
  accountName: string | null;
  domainName: string | null;
  userSid: string | null;
  aadUserId: string | null;
  userPrincipalName: string | null;
  detectionStatus: string | null;
}

export interface RelatedUserDto {
  userName: string;
  domainName: string;
}

export interface LoggedOnUserDto {
  accountName: string;
  domainName: string;
}

export interface AlertDto {
  /** `da…`, `ar…` or no prefix, then 18 digits (.NET ticks), `_`, a signed 32-bit integer. */
  id: string;
  incidentId: number | null;
  investigationId: number | null;
  assignedTo: string | null;
  severity: AlertSeverity;
  status: AlertStatus;
  classification: AlertClassification | null;
  determination: AlertDetermination | null;
  investigationState: InvestigationState | null;
  detectionSource: DetectionSource | string;
  detectorId: string;
  category: string;
  threatFamilyName: string | null;
  title: string;
  description: string;
  alertCreationTime: DateTimeString | null;
  firstEventTime: DateTimeString | null;
  lastEventTime: DateTimeString | null;
  lastUpdateTime: DateTimeString | null;
  resolvedTime: DateTimeString | null;
  machineId: string;
  computerDnsName: string | null;
  rbacGroupName: string | null;
  aadTenantId: string;
  threatName: string | null;
  mitreTechniques: string[];
  relatedUser: RelatedUserDto | null;
  loggedOnUsers: LoggedOnUserDto[];
  comments: AlertCommentDto[];
  evidence: AlertEvidenceDto[];
  domains: string[];
}

/** A collection answer: `{ "@odata.context": …, "value": [...] }`, with a next link when paged. */
export interface ODataCollection<T> {
  '@odata.context': string;
  '@odata.count'?: number;
  value: T[];
  '@odata.nextLink'?: string;
}

/** Defender's error body (`common-errors.md`). */
export interface DefenderErrorBody {
  error: { code: string; message: string; target: string };
}
