import type {
  AlertClassification,
  AlertDetermination,
  AlertSeverity,
  AlertStatus,
  DetectionSource,
  DeviceValue,
  ExposureLevel,
  HealthStatus,
  InvestigationState,
  OnboardingStatus,
  RiskScore,
} from '../defender/types.js';

/**
 * Every GraphQL enum of `schema/`, value by value, to the string Defender sends on the wire. Resolvers pass
 * Defender's strings through unchanged: codegen's `enumValues` types them from this constant, and the runtime
 * enum resolvers are built from it too, so the two cannot drift apart.
 */
export const ENUM_VALUES = {
  HealthStatus: {
    ACTIVE: 'Active',
    INACTIVE: 'Inactive',
    IMPAIRED_COMMUNICATION: 'ImpairedCommunication',
    NO_SENSOR_DATA: 'NoSensorData',
    NO_SENSOR_DATA_IMPAIRED_COMMUNICATION: 'NoSensorDataImpairedCommunication',
    UNKNOWN: 'Unknown',
  },
  DeviceValue: {
    LOW: 'Low',
    NORMAL: 'Normal',
    HIGH: 'High',
  },
  RiskScore: {
    NONE: 'None',
    INFORMATIONAL: 'Informational',
    LOW: 'Low',
    MEDIUM: 'Medium',
    HIGH: 'High',
  },
  ExposureLevel: {
    NONE: 'None',
    LOW: 'Low',
    MEDIUM: 'Medium',
    HIGH: 'High',
  },
  OnboardingStatus: {
    ONBOARDED: 'Onboarded',
    CAN_BE_ONBOARDED: 'CanBeOnboarded',
    UNSUPPORTED: 'Unsupported',
    INSUFFICIENT_INFO: 'InsufficientInfo',
  },
  AlertSeverity: {
    UN_SPECIFIED: 'UnSpecified',
    INFORMATIONAL: 'Informational',
    LOW: 'Low',
    MEDIUM: 'Medium',
    HIGH: 'High',
  },
  AlertStatus: {
    UNKNOWN: 'Unknown',
    NEW: 'New',
    IN_PROGRESS: 'InProgress',
    RESOLVED: 'Resolved',
  },
  AlertClassification: {
    TRUE_POSITIVE: 'TruePositive',
    INFORMATIONAL_EXPECTED_ACTIVITY: 'InformationalExpectedActivity',
    FALSE_POSITIVE: 'FalsePositive',
  },
  AlertDetermination: {
    MULTI_STAGED_ATTACK: 'MultiStagedAttack',
    MALICIOUS_USER_ACTIVITY: 'MaliciousUserActivity',
    COMPROMISED_USER: 'CompromisedUser',
    COMPROMISED_ACCOUNT: 'CompromisedAccount',
    MALWARE: 'Malware',
    PHISHING: 'Phishing',
    UNWANTED_SOFTWARE: 'UnwantedSoftware',
    SECURITY_TESTING: 'SecurityTesting',
    LINE_OF_BUSINESS_APPLICATION: 'LineOfBusinessApplication',
    CONFIRMED_USER_ACTIVITY: 'ConfirmedUserActivity',
    CONFIRMED_ACTIVITY: 'ConfirmedActivity',
    CLEAN: 'Clean',
    NOT_MALICIOUS: 'NotMalicious',
    INSUFFICIENT_DATA: 'InsufficientData',
    OTHER: 'Other',
  },
  InvestigationState: {
    UNKNOWN: 'Unknown',
    TERMINATED: 'Terminated',
    SUCCESSFULLY_REMEDIATED: 'SuccessfullyRemediated',
    BENIGN: 'Benign',
    FAILED: 'Failed',
    PARTIALLY_REMEDIATED: 'PartiallyRemediated',
    RUNNING: 'Running',
    PENDING_APPROVAL: 'PendingApproval',
    PENDING_RESOURCE: 'PendingResource',
    PARTIALLY_INVESTIGATED: 'PartiallyInvestigated',
    TERMINATED_BY_USER: 'TerminatedByUser',
    TERMINATED_BY_SYSTEM: 'TerminatedBySystem',
    QUEUED: 'Queued',
    INNER_FAILURE: 'InnerFailure',
    PREEXISTING_ALERT: 'PreexistingAlert',
    UNSUPPORTED_OS: 'UnsupportedOs',
    UNSUPPORTED_ALERT_TYPE: 'UnsupportedAlertType',
    SUPPRESSED_ALERT: 'SuppressedAlert',
  },
  DetectionSource: {
    WINDOWS_DEFENDER_ATP: 'WindowsDefenderAtp',
    WINDOWS_DEFENDER_AV: 'WindowsDefenderAv',
    WINDOWS_DEFENDER_SMART_SCREEN: 'WindowsDefenderSmartScreen',
    AUTOMATED_INVESTIGATION: 'AutomatedInvestigation',
    CUSTOM_DETECTION: 'CustomDetection',
    CUSTOMER_TI: 'CustomerTI',
    MTP: 'MTP',
    OFFICE_ATP: 'OfficeATP',
    THREAT_EXPERTS: 'ThreatExperts',
    THIRD_PARTY_SENSORS: 'ThirdPartySensors',
  },
} as const satisfies { readonly [Enum in keyof WireValues]: Readonly<Record<string, WireValues[Enum]>> };

/** Each GraphQL enum's wire strings, as `src/defender/types.ts` declares them. */
interface WireValues {
  HealthStatus: HealthStatus;
  DeviceValue: DeviceValue;
  RiskScore: RiskScore;
  ExposureLevel: ExposureLevel;
  OnboardingStatus: OnboardingStatus;
  AlertSeverity: AlertSeverity;
  AlertStatus: AlertStatus;
  AlertClassification: AlertClassification;
  AlertDetermination: AlertDetermination;
  InvestigationState: InvestigationState;
  DetectionSource: DetectionSource;
}

/** The wire strings of `Wire` that `Map` gives no GraphQL name; `never` when every one has a name. */
type Unnamed<Wire extends string, Map> = Exclude<Wire, Map[keyof Map]>;

/** Accepts only a record whose every entry is `true`. */
type AllTrue<Checks extends Record<keyof WireValues, true>> = Checks;

/**
 * Fails to compile, naming the enum and the value, when `src/defender/types.ts` gains a wire value that
 * `ENUM_VALUES` does not name: such a value would reach GraphQL and fail to serialize. (`satisfies` above
 * checks the other direction: every GraphQL name maps to a declared wire value.)
 */
export type EnumValuesAreComplete = AllTrue<{
  [Enum in keyof WireValues]: [Unnamed<WireValues[Enum], (typeof ENUM_VALUES)[Enum]>] extends [never]
    ? true
    : { unnamedWireValues: Unnamed<WireValues[Enum], (typeof ENUM_VALUES)[Enum]> };
}>;
