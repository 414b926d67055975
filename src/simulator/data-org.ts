import type { Random } from './data-random.js';

/** The organisation behind a tenant: the names and networks every generated entity is drawn from. */
export interface Organisation {
  /** Microsoft's sample company name, e.g. `contoso`; also the primary NetBIOS domain. */
  readonly company: string;
  /** Suffix of user principal names, e.g. `contoso.com`. */
  readonly upnSuffix: string;
  /** Active Directory domains; the first is the primary one. */
  readonly domains: readonly AdDomain[];
  /** How this company turns a person's name into an account name (`jdoe`, `john.doe` …). */
  readonly accountName: (first: string, last: string) => string;
  /** UPNs of the SOC analysts who get alerts assigned. */
  readonly analysts: readonly string[];
  /** Public addresses the offices reach the internet through. */
  readonly egressIps: readonly string[];
  /** Azure subscriptions the company's virtual machines live in. */
  readonly subscriptions: readonly string[];
}

export interface AdDomain {
  readonly netbios: string;
  readonly dnsName: string;
  /** Domain SID; account SIDs append a relative id. */
  readonly sid: string;
  /** Where the domain's workstations sit, which picks their device group. */
  readonly region: 'US' | 'EU' | 'APAC';
}

// prettier-ignore
export const FIRST_NAMES = [
  'aaron', 'adam', 'adele', 'alex', 'alice', 'amanda', 'amir', 'ana', 'andrew', 'anna', 'ben', 'brian',
  'carlos', 'carol', 'chris', 'christie', 'claire', 'daniel', 'david', 'diego', 'elena', 'emily', 'emma',
  'eric', 'fatima', 'grace', 'hannah', 'henrik', 'irvin', 'isaiah', 'jakob', 'james', 'jane', 'jason',
  'jennifer', 'joni', 'jordan', 'jose', 'julia', 'karen', 'kevin', 'lara', 'lee', 'lidia', 'lucas', 'lynne',
  'maria', 'mark', 'megan', 'miriam', 'mohammed', 'nestor', 'nina', 'olga', 'omar', 'patti', 'paul', 'pradeep',
  'priya', 'rachel', 'raj', 'robert', 'sakura', 'samuel', 'sara', 'sofia', 'stefan', 'steven', 'tom', 'wei',
  'yuki', 'zoe',
] as const;

// prettier-ignore
export const LAST_NAMES = [
  'adams', 'allen', 'anderson', 'bauer', 'becker', 'brown', 'carter', 'chen', 'clark', 'costa', 'davis',
  'diaz', 'dubois', 'evans', 'fischer', 'garcia', 'gupta', 'hall', 'harris', 'hughes', 'ito', 'jackson',
  'johnson', 'khan', 'kim', 'king', 'kowalski', 'lee', 'lewis', 'lopez', 'martin', 'meyer', 'miller',
  'moore', 'muller', 'nakamura', 'nguyen', 'novak', 'obrien', 'patel', 'perez', 'phillips', 'rossi',
  'sanchez', 'schmidt', 'silva', 'singh', 'smith', 'suzuki', 'taylor', 'thomas', 'thompson', 'walker',
  'wang', 'white', 'williams', 'wilson', 'wright', 'young', 'zhang',
] as const;

// prettier-ignore
const COMPANIES = [
  'contoso', 'fabrikam', 'northwind', 'adatum', 'tailspin', 'woodgrove', 'litware', 'wingtip', 'proseware',
  'relecloud', 'lamna', 'fourthcoffee', 'alpineski', 'treyresearch',
] as const;

const SECONDARY_DOMAINS: readonly (readonly [string, AdDomain['region']])[] = [
  ['emea', 'EU'],
  ['eu', 'EU'],
  ['europe', 'EU'],
  ['apac', 'APAC'],
];

const ACCOUNT_STYLES: readonly ((first: string, last: string) => string)[] = [
  (first, last) => `${first[0]}${last}`,
  (first, last) => `${first}.${last}`,
  (first, last) => `${last}${first[0]}`,
];

// Real public ranges (Azure, European and US ISPs), so addresses look like internet egress, not RFC 1918.
const PUBLIC_FIRST_OCTETS = [20, 40, 52, 62, 77, 81, 86, 93, 104, 131, 145, 185, 194, 203, 213, 217];

export function publicIp(rng: Random): string {
  return `${rng.pick(PUBLIC_FIRST_OCTETS)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
}

/** Windows domain SIDs are `S-1-5-21-` and three 32-bit sub-authorities, usually 9–10 digits each. */
function domainSid(rng: Random): string {
  return `S-1-5-21-${rng.int(1e9, 4_294_967_295)}-${rng.int(1e9, 4_294_967_295)}-${rng.int(1e8, 4_294_967_295)}`;
}

export function createOrganisation(rng: Random): Organisation {
  const company = rng.pick(COMPANIES);
  const primaryDns = rng.pick([`corp.${company}.com`, `${company}.local`, `ad.${company}.com`]);
  const [secondary, region] = rng.pick(SECONDARY_DOMAINS);
  const domains: AdDomain[] = [
    { netbios: company, dnsName: primaryDns, sid: domainSid(rng), region: 'US' },
    { netbios: secondary, dnsName: `${secondary}.${primaryDns}`, sid: domainSid(rng), region },
  ];
  const upnSuffix = `${company}.com`;
  const analysts = Array.from({ length: rng.int(3, 6) }, () => {
    return `${rng.pick(FIRST_NAMES)}.${rng.pick(LAST_NAMES)}@${upnSuffix}`;
  });
  return {
    company,
    upnSuffix,
    domains,
    accountName: rng.pick(ACCOUNT_STYLES),
    analysts: [...new Set(analysts)],
    egressIps: Array.from({ length: rng.int(2, 4) }, () => publicIp(rng)),
    subscriptions: Array.from({ length: rng.int(1, 3) }, () => rng.guid()),
  };
}
