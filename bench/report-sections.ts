import type { LoadPhase, LoadResult } from './load.js';
import type { OverheadResult, ServerLoad } from './overhead.js';
import type { QueryCalls } from './upstream-calls.js';
import type { UtilisationResult } from './utilisation.js';
import { apiCounts, mib, pct, signed, table, upstream } from './markdown.js';

/** One section of the report: its tables (also printed to stdout) and the notes that explain them. */
export interface Section {
  readonly tables: string;
  readonly notes: string;
}

/** What the calls section needs to know of the run's setup. */
export interface CallsSetup {
  readonly callsLimits: string;
  readonly maxOperationCalls: number;
  readonly defaultMaxOperationCalls: number;
}

export function callsSection(results: readonly QueryCalls[], setup: CallsSetup): Section {
  const main = table(
    [
      'query',
      'naive',
      'lower bound',
      'cold',
      'warm',
      'cold = bound',
      'upstream (cold)',
      'upstream (warm)',
      'errors',
    ],
    results.map((r) => [
      r.query.name,
      String(r.naive),
      String(r.lowerBound.calls),
      String(r.cold.calls),
      String(r.warm.calls),
      r.cold.calls === r.lowerBound.calls ? 'yes' : `no (${signed(r.cold.calls - r.lowerBound.calls)})`,
      upstream(r.cold.upstream),
      upstream(r.warm.upstream),
      [...r.cold.errors, ...r.warm.errors].join(', ') || '—',
    ]),
  );
  const byApi = table(
    ['query', 'lower bound by API', 'cold by API (simulator log)', 'warm answer = cold', 'answer'],
    results.map((r) => [
      r.query.name,
      apiCounts(r.lowerBound.byApi),
      apiCounts(r.cold.byApi),
      r.warmAnswerSame ? 'yes' : 'no',
      `${(r.answerBytes / 1024).toFixed(1)} KiB`,
    ]),
  );
  const estimates = results.filter((r) => r.cold.upstream?.estimate);
  const estimateTable = estimates.length
    ? `\n\n\`extensions.upstream.estimate\` (cold):\n\n${table(
        ['query', 'estimate'],
        estimates.map((r) => [r.query.name, `\`${JSON.stringify(r.cold.upstream!.estimate)}\``]),
      )}`
    : '';
  const queries = results.map((r) => `# ${r.query.name}: ${r.query.purpose}\n${r.query.query}`).join('\n');
  return {
    tables: `## Upstream calls per operation\n\n${main}\n\n${byApi}${estimateTable}`,
    notes: [
      'Each query runs on a fresh simulator and gateway (cold cache), then once more on the same gateway (warm).',
      '`cold` and `warm` are the calls in the simulator’s log. `naive`: one call per root list or lookup field',
      '(`user(id:)` has no Defender route: 0) and one per relationship field per parent object (`logonUsers`,',
      '`alerts`, `machines`, `user`, `machine`, nulls included), as a resolver without DataLoader or cache would',
      'make, counted on the answer. `lower bound`: written by hand per query from the tenant (bench/queries.ts):',
      'distinct (route, key) pairs, nothing for what the parent’s JSON already holds (an alert’s `machineId`,',
      '`computerDnsName`, `relatedUser`; machines of a list page), lookups by id as one call for one id or one',
      '`$filter=id in (…)` call per 50. `upstream` is the answer’s `extensions.upstream` (calls/cacheHits, and the',
      'estimate min–max when the gateway sends one).',
      `Limits \`${setup.callsLimits}\` on both sides and a per-operation cap of ${setup.maxOperationCalls} calls, so that`,
      `neither throttling nor the cap changes what is counted. ${overCap(results, setup.defaultMaxOperationCalls)}\n`,
      '```graphql',
      queries,
      '```',
    ].join('\n'),
  };
}

export function utilisationSection(u: UtilisationResult): Section {
  const { limit, windowSeconds } = u.options.window;
  const rows = u.apis.map((a) => [
    a.api,
    String(a.windows),
    String(a.callsInWindows),
    String(a.windows * limit),
    pct(a.utilisation),
    pct(a.slidingUtilisation),
    `${a.slidingMean.toFixed(1)} / ${a.slidingMin} / ${a.slidingMax}`,
    String(a.throttled),
    String(a.operations),
  ]);
  const used = u.apis.reduce((s, a) => s + a.callsInWindows, 0);
  const allowed = u.apis.reduce((s, a) => s + a.windows * limit, 0);
  rows.push([
    '**all**',
    '',
    String(used),
    String(allowed),
    `**${pct(u.utilisation)}**`,
    `**${pct(u.slidingUtilisation)}**`,
    '',
    `**${u.throttled}**`,
    '',
  ]);
  const errors = Object.entries(u.errorsDuringDemand);
  return {
    tables: `## Limiter utilisation\n\n${table(
      [
        'API',
        `whole ${windowSeconds} s windows`,
        'calls',
        'allowed',
        'utilisation (tumbling)',
        'utilisation (sliding mean)',
        'sliding window calls mean / min / max',
        '429s',
        'operations sent',
      ],
      rows,
    )}`,
    notes: [
      `Limit \`${limit}/${windowSeconds}s\` on both sides (gateway limiter and simulator throttle), nothing else.`,
      `${u.options.concurrencyPerApi} operations in flight per API for ${u.options.durationMs / 1000} s, each`,
      'costing one call to its API for a key never asked before, so every API has a queue the whole time.',
      'Calls are counted where they arrive (the simulator’s log). Tumbling: whole windows from each API’s first',
      `call to the end of demand, calls over allowed. Sliding: the calls in the ${windowSeconds} s before each sample, every`,
      `${u.options.sampleStepMs} ms from one window after the first call to the end of demand; its mean over the`,
      'limit does not depend on where windows start. The limiter admits a full window’s calls at once, then waits',
      'a window plus its safety margin (2 % of a window, at least 250 ms), so sliding windows that start just after',
      'a burst hold few calls (the min), and the long-run ceiling is',
      `${pct(u.marginCeiling)} of the limit.`,
      `Errors during demand: ${errors.length ? errors.map(([c, n]) => `${c} × ${n}`).join(', ') : 'none'};`,
      `operations still queued at the end, refused when the limiter closed: ${u.refusedAtClose}.`,
    ].join('\n'),
  };
}

export function overheadSection(o: OverheadResult): Section {
  const ms = (value: number) => `${Math.round(value)} ms`;
  const row = (s: ServerLoad) => [
    s.label,
    s.requestsPerSecond.toFixed(0),
    ms(s.latencyP50Ms),
    ms(s.latencyP99Ms),
    `${s.latencyMeanMs.toFixed(1)} ms`,
    s.cpuMsPerRequest === undefined ? '—' : `${s.cpuMsPerRequest.toFixed(2)} ms`,
    String(s.requests),
    `${s.non2xx} / ${s.errors} / ${s.timeouts}`,
  ];
  const gatewayRounds = o.gatewayExecuting.rounds ?? [];
  const baselineRounds = o.baseline.rounds ?? [];
  const rounds = table(
    [
      'round',
      'execution path requests/s',
      'p99',
      'CPU/request',
      'baseline requests/s',
      'p99',
      'CPU/request',
      'ratio',
    ],
    gatewayRounds.map((g, i) => {
      const b = baselineRounds[i]!;
      const cpu = (r: typeof g) => (r.cpuMs === undefined ? '—' : `${(r.cpuMs / r.requests).toFixed(2)} ms`);
      return [
        `${i + 1} (${i % 2 === 0 ? 'gateway first' : 'baseline first'})`,
        g.requestsPerSecond.toFixed(0),
        ms(g.latencyP99Ms),
        cpu(g),
        b.requestsPerSecond.toFixed(0),
        ms(b.latencyP99Ms),
        cpu(b),
        (g.requestsPerSecond / b.requestsPerSecond).toFixed(2),
      ];
    }),
  );
  const cpuRatio =
    o.gatewayExecuting.cpuMsPerRequest !== undefined && o.baseline.cpuMsPerRequest !== undefined
      ? `; CPU per request, execution path over baseline: ${(o.gatewayExecuting.cpuMsPerRequest / o.baseline.cpuMsPerRequest).toFixed(2)}`
      : '';
  return {
    tables: `## Gateway overhead\n\n${table(
      [
        'server',
        'requests/s',
        'p50',
        'p99',
        'mean',
        'CPU/request',
        'requests',
        'non-2xx / errors / timeouts',
      ],
      [row(o.gateway), row(o.gatewayExecuting), row(o.baseline)],
    )}\n\nThroughput ratio gateway / baseline: **${o.throughputRatio.toFixed(2)}** (with the response cache off, every request executing over cached upstream answers: **${o.executingRatio.toFixed(2)}**, the median of the rounds' ratios${cpuRatio})${cachedWarning(o)}\n\nThe execution path and the baseline, round by round (each round a fresh process of each):\n\n${rounds}`,
    notes: [
      `Query \`${o.options.query.name}\` (answer ${(o.answerBytes / 1024).toFixed(1)} KiB), fully cached: warm`,
      `\`extensions.upstream\` ${upstream(o.warmUpstream)}; calls that reached the simulator during the gateway's loads:`,
      `${o.upstreamCallsDuringLoad}. autocannon, ${o.options.connections} connections, from the parent process; each server`,
      'runs in its own child process (compiled, started as the Dockerfile starts the gateway: see the setup above).',
      `The gateway with its response cache off and the baseline are measured in ${o.options.rounds} rounds; each round starts`,
      `both afresh, warms each up for ${o.options.warmupSeconds} s, then measures each for ${o.options.durationSeconds} s, one after the other (gateway first,`,
      'then baseline first, …). On the 2-core machines this runs on, one server process can run about twice as slowly',
      'as the next, uniformly and for its whole life (the CPU per request column shows it): a round samples a process of',
      'each, and the ratio and p99 goals take the medians of the rounds. Their rows above are the means of the rounds,',
      'CPU per request the server process’s user + system time over its measured requests. The gateway with its',
      `response cache on is measured after them, alone (${o.options.warmupSeconds} s of warm-up, ${o.options.durationSeconds} s). The gateway is \`createServer\``,
      'as `npm start` builds it; the baseline is a bare Apollo Server on the same HTTP stack (fastify 5 and',
      '`@as-integrations/fastify`) with the same schema (`loadTypeDefs()`), whose root resolvers return the',
      `gateway's answer from an in-memory map (default resolvers below). Same answer as the gateway: ${o.sameAnswer ? 'yes' : '**no**'}.`,
    ].join('\n'),
  };
}

/** Which queries the gateway's default per-operation cap would refuse, by their lower bound. */
function overCap(results: readonly QueryCalls[], cap: number): string {
  const over = results.filter((r) => r.lowerBound.calls > cap);
  return over.length
    ? `With the default cap (MAX_OPERATION_CALLS=${cap}), ${over.map((r) => `\`${r.query.name}\` (${r.lowerBound.calls})`).join(', ')} need more calls than that even at their lower bound: past the cap, their remaining fields fail QUERY_TOO_EXPENSIVE.`
    : `Every query's lower bound is within the default cap (MAX_OPERATION_CALLS=${cap}).`;
}

/** Says loudly when the gateway's figures are not those of a fully cached query. */
function cachedWarning(o: OverheadResult): string {
  const warm = o.warmUpstream?.calls ?? 0;
  const problems = [
    warm > 0 ? `its warm answer still made ${warm} upstream calls` : '',
    o.upstreamCallsDuringLoad > 0
      ? `${o.upstreamCallsDuringLoad} calls reached the simulator during the load`
      : '',
    o.warmErrors.length ? `its warm answer had errors (${o.warmErrors.join(', ')})` : '',
  ].filter(Boolean);
  return problems.length
    ? `\n\n**Not a fully cached run:** ${problems.join('; ')}. The gateway figures measure upstream traffic and throttling, not overhead.`
    : '';
}

export function memorySection(o: OverheadResult): Section {
  const row = (s: ServerLoad) => [
    s.label,
    mib(s.atRest.rss),
    mib(s.atRest.heapUsed),
    mib(s.peakRss),
    mib(s.peakHeapUsed),
    mib(s.afterLoad.rss),
    mib(s.afterLoad.heapUsed),
  ];
  return {
    tables: `## Memory\n\n${table(
      [
        'server',
        'RSS at rest',
        'heap used at rest',
        'peak RSS under load',
        'peak heap used',
        'RSS after',
        'heap after',
      ],
      [row(o.gateway), row(o.baseline)],
    )}`,
    notes: [
      `At rest: after the answer was warmed and a full GC (${o.gateway.gcExposed ? '`--expose-gc`' : 'no GC exposed'}).`,
      'Peak: highest of the readings the server process sends every 250 ms during warm-up and load. After: after',
      'the load and a full GC. The gateway process holds its cache of upstream answers (the simulator runs in the',
      'bench process, not in the gateway’s).',
      `Longest gap between two readings during the load (a timer due every 250 ms that fires late is a busy event loop): gateway ${longestGapMs(o.gateway)} ms, baseline ${longestGapMs(o.baseline)} ms.`,
    ].join('\n'),
  };
}

function longestGapMs(s: ServerLoad): number {
  const times = s.memory.slice(1, -1).map((p) => p.tMs);
  return times.slice(1).reduce((gap, t, i) => Math.max(gap, t - times[i]!), 0);
}

export function loadSection(l: LoadResult): Section {
  const phases = [l.warm, l.cold];
  const main = table(
    [
      'phase',
      'requests/s',
      'p50',
      'p99',
      'mean',
      'max',
      'operations',
      'clean / with errors',
      'upstream calls',
      '429s',
      'peak RSS',
      'peak heap used',
      'RSS / heap after (GC)',
    ],
    phases.map((p) => [
      p.label,
      p.requestsPerSecond.toFixed(0),
      `${p.latencyP50Ms.toFixed(1)} ms`,
      `${p.latencyP99Ms.toFixed(1)} ms`,
      `${p.latencyMeanMs.toFixed(1)} ms`,
      `${p.latencyMaxMs.toFixed(0)} ms`,
      String(p.requests),
      `${p.clean} / ${p.withErrors}`,
      String(p.upstreamCalls),
      String(p.throttled),
      mib(p.peakRss),
      mib(p.peakHeapUsed),
      `${mib(p.afterLoad.rss)} / ${mib(p.afterLoad.heapUsed)}`,
    ]),
  );
  const codes = [...new Set(phases.flatMap((p) => Object.keys(p.errorsByCode)))].sort();
  const errors = codes.length
    ? table(
        ['error code', ...phases.map((p) => p.label)],
        codes.map((c) => [c, ...phases.map((p) => String(p.errorsByCode[c] ?? 0))]),
      )
    : 'No errors in either phase.';
  const peaks = l.cold.peaks.length
    ? table(
        ['API', 'calls', 'window', 'peak calls in any window', 'limit', 'peak / limit', '429s'],
        l.cold.peaks.map((p) => [
          p.api,
          String(p.calls),
          `${p.windowSeconds} s`,
          String(p.peak),
          String(p.limit),
          pct(p.peak / p.limit),
          String(p.throttled),
        ]),
      )
    : 'No upstream calls in the cold phase.';
  return {
    tables: `## Sustained load

${main}

Errors by \`extensions.code\` (one per error entry):

${errors}

Cold under throttling, calls at the simulator per API: the most in any sliding window of the limit’s length:

${peaks}`,
    notes: [
      `${l.options.workers} closed-loop workers (fetch, one operation in flight each) in the bench process for`,
      `${l.options.seconds} s per phase, against the gateway in a child process (compiled, started as the`,
      'Dockerfile starts it, NODE_ENV=production: see the setup above); the simulator runs in the bench process.',
      'Latency is from send to parsed answer.',
      'No operation is sent after the phase’s time is up, but those in flight are awaited (under throttling, up to',
      'the request deadline): requests/s is over the whole phase, that tail included.',
      `**${l.warm.label}:** ${phaseSetup(l.warm)}; the fixed mix (${l.queryMix.join(', ')}) in turn, each`,
      'query sent twice before the load.',
      `**${l.cold.label}:** ${phaseSetup(l.cold)}; device pages, user pages and five-alert lookups over ids`,
      'walked through the tenant, interleaved with the fixed mix, so most operations need upstream calls. Past',
      'its deadline the limiter refuses at once (RATE_LIMITED), past the cap an operation is QUERY_TOO_EXPENSIVE.',
      `Operations per query: ${Object.entries(l.cold.byQuery)
        .map(([q, n]) => `${q} ${n}`)
        .join(', ')}.`,
      'Peak: for each API and limit window, the most calls the simulator received within any span of the',
      'window’s length (exact, over every call’s arrival time). Memory: readings the gateway sends every 250 ms,',
      'RSS at rest after the warm-up and a full GC, and again after the load.',
    ].join('\n'),
  };
}

function phaseSetup(p: LoadPhase): string {
  const o = p.options;
  return [
    `limits \`${o.rateLimits}\` on both sides`,
    `cache TTL ${o.cacheTtlMs >= 60_000 ? `${o.cacheTtlMs / 60_000} min` : `${o.cacheTtlMs / 1000} s`}`,
    `response cache ${o.responseCache ? 'on' : 'off'}`,
    `request deadline ${o.requestDeadlineMs / 1000} s`,
    `MAX_OPERATION_CALLS ${o.maxOperationCalls}`,
  ].join(', ');
}
