import type { Random, Weighted } from './data-random.js';

export type OsFamily = 'windows' | 'linux' | 'macos';

export interface OsRelease {
  readonly version: string | null;
  readonly build: number | null;
  /** The build in the sensor version (`10.8470.19041.2788`): the release's base build on Windows. */
  readonly agentBuild: number;
}

export interface OsProfile {
  readonly platform: string;
  readonly family: OsFamily;
  readonly server: boolean;
  readonly releases: Weighted<OsRelease>;
}

/** Operating systems with their share of a fleet, and their releases with theirs. */
export const OS_PROFILES: Weighted<OsProfile> = [
  [
    {
      platform: 'Windows11',
      family: 'windows',
      server: false,
      releases: [
        [{ version: '23H2', build: 22631, agentBuild: 22621 }, 40],
        [{ version: '24H2', build: 26100, agentBuild: 26100 }, 30],
        [{ version: '22H2', build: 22621, agentBuild: 22621 }, 20],
        [{ version: '21H2', build: 22000, agentBuild: 22000 }, 4],
      ],
    },
    34,
  ],
  [
    {
      platform: 'Windows10',
      family: 'windows',
      server: false,
      releases: [
        [{ version: '22H2', build: 19045, agentBuild: 19041 }, 80],
        [{ version: '21H2', build: 19044, agentBuild: 19041 }, 15],
        [{ version: '21H1', build: 19043, agentBuild: 19041 }, 4],
        [{ version: '1809', build: 17763, agentBuild: 17763 }, 1],
      ],
    },
    30,
  ],
  [
    {
      platform: 'WindowsServer2022',
      family: 'windows',
      server: true,
      releases: [[{ version: '21H2', build: 20348, agentBuild: 20348 }, 1]],
    },
    9,
  ],
  [
    {
      platform: 'WindowsServer2019',
      family: 'windows',
      server: true,
      releases: [[{ version: '1809', build: 17763, agentBuild: 17763 }, 1]],
    },
    7,
  ],
  [
    {
      platform: 'WindowsServer2016',
      family: 'windows',
      server: true,
      releases: [[{ version: '1607', build: 14393, agentBuild: 14393 }, 1]],
    },
    3,
  ],
  [
    {
      platform: 'Linux',
      family: 'linux',
      server: true,
      releases: [
        [{ version: '22.04', build: null, agentBuild: 0 }, 45],
        [{ version: '20.04', build: null, agentBuild: 0 }, 20],
        [{ version: '24.04', build: null, agentBuild: 0 }, 20],
        [{ version: '9.4', build: null, agentBuild: 0 }, 15],
      ],
    },
    9,
  ],
  [
    {
      platform: 'macOS',
      family: 'macos',
      server: false,
      releases: [
        [{ version: '15.1', build: null, agentBuild: 0 }, 45],
        [{ version: '14.7', build: null, agentBuild: 0 }, 40],
        [{ version: '13.7', build: null, agentBuild: 0 }, 15],
      ],
    },
    8,
  ],
];

/** Windows sensors are versioned `10.<sensor>.<OS base build>.<revision>`; Linux and macOS `101.<yymmx>.<n>`. */
export function agentVersion(rng: Random, family: OsFamily, agentBuild: number): string {
  if (family === 'windows') return `10.${rng.int(8295, 8810)}.${agentBuild}.${rng.int(1000, 7999)}`;
  const release = rng.pick(['24042', '24052', '24062', '24072', '24082', '24092', '24122', '25010']);
  return `101.${release}.${String(rng.int(1, 12)).padStart(4, '0')}`;
}
