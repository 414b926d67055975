import { DEFAULT_CACHE_MAX_MB } from '../src/cache/budget.js';
import type { NodeLaunch } from './deployed.js';
import type { LoadPhase, LoadPhaseOptions, LoadResult, MixItem } from './load.js';
import { runPhase } from './load.js';
import { mib, table } from './markdown.js';
import type { Section } from './report-sections.js';

export interface AdversarialOptions {
  readonly seed: number;
  readonly latencyMs: number;
  /** How the gateway child's node is started: the Dockerfile's flags (bench/deployed.ts). */
  readonly launch: NodeLaunch;
  /** Length of the load (s). */
  readonly seconds: number;
  /** Closed-loop workers, one operation in flight each. */
  readonly workers: number;
  readonly phase: LoadPhaseOptions;
}

export interface AdversarialResult {
  readonly options: AdversarialOptions;
  readonly phase: LoadPhase;
}

const FIELDS =
  'id title description severity status category detectionSource threatName alertCreationTime lastUpdateTime machineId computerDnsName mitreTechniques assignedTo';
const aliases = (selection: string) =>
  Array.from({ length: 15 }, (_, i) => `a${i}: alerts(first: 500) { nodes { ${selection} } }`).join('\n');
const WIDE = aliases(FIELDS);
const NARROW = aliases('id title');

/**
 * The attacker's mix, every document but the plain page distinct (a comment tells them apart): 15 aliases of
 * the widest 500-alert page (21 MB of answer from one upstream call), the same with two fields, and the plain
 * page itself. Each distinct document is a new entry for the document store and the response cache.
 */
export function adversarialMix(k: number): MixItem {
  if (k % 4 === 0) return { name: 'wide', query: `# ${k}\nquery Wide {\n${WIDE}\n}` };
  if (k % 4 === 1)
    return { name: 'page', query: `query Page { alerts(first: 500) { nodes { ${FIELDS} } } }` };
  return { name: 'narrow', query: `# ${k}\nquery Narrow {\n${NARROW}\n}` };
}

/** Distinct wide documents against the gateway in a child process, for its peak RSS. */
export async function measureAdversarialLoad(options: AdversarialOptions): Promise<AdversarialResult> {
  const phase = await runPhase(
    'adversarial: distinct wide documents',
    options,
    options.phase,
    adversarialMix,
    [],
  );
  return { options, phase };
}

/** The adversarial load's memory beside the sustained load's (when that section ran too). */
export function adversarialSection(a: AdversarialResult, load?: LoadResult): Section {
  const phases = [...(load ? [load.warm, load.cold] : []), a.phase];
  const main = table(
    [
      'phase',
      'requests/s',
      'operations',
      'clean / with errors',
      'upstream calls',
      'RSS at rest',
      'peak RSS',
      'peak heap used',
      'RSS / heap after (GC)',
    ],
    phases.map((p) => [
      p.label,
      p.requestsPerSecond.toFixed(1),
      String(p.requests),
      `${p.clean} / ${p.withErrors}`,
      String(p.upstreamCalls),
      mib(p.atRest.rss),
      mib(p.peakRss),
      mib(p.peakHeapUsed),
      `${mib(p.afterLoad.rss)} / ${mib(p.afterLoad.heapUsed)}`,
    ]),
  );
  const cacheMaxMb = a.options.phase.cacheMaxMb ?? DEFAULT_CACHE_MAX_MB;
  return {
    tables: `## Memory under an adversarial load\n\n${main}`,
    notes: [
      `${a.options.workers} closed-loop workers for ${a.options.seconds} s against the gateway in a child process (as in`,
      `the sustained load; no heap cap), CACHE_MAX_MB=${cacheMaxMb}, response cache on, limits \`${a.options.phase.rateLimits}\`.`,
      'The mix: a quarter 15 aliases of `alerts(first: 500)` with 14 fields (about 21.8 MB of answer each), a',
      'quarter the plain 500-alert page, half 15 aliases with two fields; every document but the plain page is',
      'distinct (a comment), so each is a new entry in the document store and the response cache. The in-process',
      'caches are bounded by bytes (CACHE_MAX_MB); what remains is the working set of the operations in flight.',
      `Operations per kind: ${Object.entries(a.phase.byQuery)
        .map(([q, n]) => `${q} ${n}`)
        .join(', ')}.`,
      load ? 'The rows above it are the sustained load’s phases, for comparison.' : '',
    ]
      .filter(Boolean)
      .join('\n'),
  };
}
