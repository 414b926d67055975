import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AlertDto } from '../defender/types.js';
import type { AdminControls } from './admin.js';
import { answerAdmin } from './admin.js';
import type { AlertEdit, NewAlert } from './alert-changes.js';
import { AlertChanges } from './alert-changes.js';
import { systemClock } from './change-clock.js';
import type { SimulatorOptions, SimulatorToken } from './config.js';
import { HUNTING_LATENCY_FACTOR, simulatorOptions } from './config.js';
import type { Tenant } from './data.js';
import { generateTenant } from './data.js';
import type { Fault, FaultRule } from './faults.js';
import { FaultInjector } from './faults.js';
import type { Answer } from './handlers.js';
import { defenderError } from './handlers.js';
import { matchHuntingRoute } from './hunting.js';
import type { Outcome, RequestContext } from './requests.js';
import { answerHuntingRequest, answerRead, answerWriteRequest } from './requests.js';
import type { SimulatorApi } from './routes.js';
import { matchRoute, matchWrite } from './routes.js';
import { SlidingWindowThrottle } from './throttle.js';

/** One request as the simulator saw it: what tests assert upstream traffic against. */
export interface SimulatorCall {
  /** Order of arrival, from 1. */
  readonly seq: number;
  /** Arrival time (ms since epoch). */
  readonly at: number;
  readonly method: string;
  /** The Defender API (route template) it called, `hunting` for advanced hunting, or null for an unknown route. */
  readonly api: SimulatorApi | null;
  /** The path as received, still percent-encoded. */
  readonly path: string;
  /** The `{id}` segment, decoded. */
  readonly id: string | undefined;
  /** The raw query string without `?` (empty when none). */
  readonly search: string;
  /** Decoded query parameters. */
  readonly query: Readonly<Record<string, string>>;
  /** Throttling identity of the token, or null when unauthenticated. */
  readonly caller: string | null;
  /** Advanced hunting: the KQL text of the body's `Query`, as sent; undefined for other routes or no query. */
  kql: string | undefined;
  /** Advanced hunting: the body's `Timespan`, when sent. */
  timespan: string | undefined;
  /** Writes and advanced hunting: the request body as received (UTF-8); undefined for reads or past 1 MiB. */
  body: string | undefined;
  /** HTTP status answered; 0 when the connection was reset or left hanging. */
  status: number;
  /** The injected fault, if one fired. */
  fault: Fault['kind'] | undefined;
}

export interface Simulator {
  /** `http://127.0.0.1:port`: the base URL to give a Defender client (no `/api`). */
  readonly url: string;
  readonly tenant: Tenant;
  readonly options: SimulatorOptions;
  /** Every call so far, in arrival order. */
  readonly calls: readonly SimulatorCall[];
  /** Forgets the call log (the throttle keeps counting unless `resetThrottle` is called). */
  resetCalls(): void;
  resetThrottle(): void;
  injectFault(rule: FaultRule): void;
  clearFaults(): void;
  /**
   * From now on Defender no longer returns this machine, as after it is offboarded and ages out: `machines/{id}`
   * and its relationships answer 404, and every list and filter leaves it out. Its alerts stay, naming it.
   */
  retireMachine(id: string): void;
  /**
   * The simulator's now: `tenantNow` (`SIMULATOR_NOW`) plus the time its clock has moved since it started.
   * Alerts created or updated from now on carry this time (or a tick later, each change after the last).
   */
  now(): Date;
  /**
   * Raises an alert now, as Defender would when a detection fires: a new id and incident,
   * `alertCreationTime` = `lastUpdateTime` = now; what `alert` leaves out comes from a detection template.
   * Returns a copy of it. Throws `AlertChangeError` for an unknown machine or user or a bad value.
   */
  createAlert(alert: NewAlert): AlertDto;
  /**
   * Changes an alert's triage fields now (moving `lastUpdateTime`, and `resolvedTime` as a write does), as
   * an analyst in the portal or automation would. Returns a copy of it. Throws `AlertChangeError`.
   */
  updateAlert(id: string, edit: AlertEdit): AlertDto;
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8';
const ERROR_TYPE = 'application/json; charset=utf-8';

/**
 * Starts a Defender simulator on `host:port` (port 0 picks a free one). It answers Defender's read routes
 * from a generated tenant, with Defender's auth, visibility, throttling, errors and latency, plus the
 * faults tests inject, and logs every call.
 */
export async function startSimulator(
  overrides: Partial<SimulatorOptions> = {},
  listen: { port?: number; host?: string } = {},
): Promise<Simulator> {
  const options = simulatorOptions(overrides);
  const clock = options.clock ?? systemClock;
  const tenant = generateTenant({
    seed: options.seed,
    ...(options.sizes ? { sizes: options.sizes } : {}),
    ...(options.tenantNow ? { now: options.tenantNow } : {}),
  });
  const changes = new AlertChanges(tenant, clock);
  const throttle = new SlidingWindowThrottle(options.rateLimits);
  const batchThrottle = new SlidingWindowThrottle(options.batchUpdateRateLimits);
  const huntingThrottle = new SlidingWindowThrottle(options.huntingRateLimits);
  const huntingLatencyMs = options.huntingLatencyMs ?? options.latencyMs * HUNTING_LATENCY_FACTOR;
  const faults = new FaultInjector();
  const tokens = new Map(options.tokens.map((t) => [t.token, t]));
  const retiredMachineIds = new Set<string>();
  let calls: SimulatorCall[] = [];
  let seq = 0;
  const stopBackground = changes.startBackground(
    options.alertChangesPerMinute ?? 0,
    (m) => !retiredMachineIds.has(m.id),
  );
  const admin: AdminControls = {
    calls: () => calls,
    resetCalls: () => void (calls = []),
    faults,
    resetThrottles,
    changes,
  };
  const context: RequestContext = {
    tenant,
    options,
    clock,
    changes,
    faults,
    throttle,
    batchThrottle,
    huntingThrottle,
    retiredMachineIds,
  };

  const server = createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      // A bug in the simulator must fail loudly in tests, not look like a Defender outage.
      console.error('simulator: unhandled error', error);
      if (!res.headersSent) send(res, defenderError(500, 'InternalServerError', ''));
    });
  });

  /** Routes a request: the admin API, Graph's advanced hunting, or a Defender REST read or write. */
  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const search = q === -1 ? '' : rawUrl.slice(q + 1);

    if (path.startsWith('/_simulator/')) {
      return send(res, await answerAdmin(req, path, options.adminToken, admin));
    }
    const token = bearer(req, tokens);
    const hunting = matchHuntingRoute(path);
    if (hunting) {
      const call = logCall(req, token, 'hunting', path, search, undefined);
      const answer = await answerHuntingRequest(context, call, token, req, hunting.version);
      return finish(req, res, call, answer, huntingLatencyMs);
    }

    const route = matchRoute(path);
    const write = matchWrite(req.method ?? 'GET', route);
    const call = logCall(req, token, write ?? route?.api ?? null, path, search, route?.id);
    const answer = write
      ? await answerWriteRequest(context, call, write, token, req)
      : await answerRead(context, call, route, token, new URLSearchParams(search), req);
    await finish(req, res, call, answer, options.latencyMs);
  }

  /** Appends a request to the call log as it arrives; its outcome is filled in as it is answered. */
  function logCall(
    req: IncomingMessage,
    token: SimulatorToken | undefined,
    api: SimulatorApi | null,
    path: string,
    search: string,
    id: string | undefined,
  ): SimulatorCall {
    const call: SimulatorCall = {
      seq: ++seq,
      at: clock.now(),
      method: req.method ?? 'GET',
      api,
      path,
      id,
      search,
      query: Object.fromEntries(new URLSearchParams(search)),
      caller: token ? (token.caller ?? token.token) : null,
      kql: undefined,
      timespan: undefined,
      body: undefined,
      status: 0,
      fault: undefined,
    };
    calls.push(call);
    return call;
  }

  async function finish(
    req: IncomingMessage,
    res: ServerResponse,
    call: SimulatorCall,
    answer: Outcome,
    latencyMs: number,
  ): Promise<void> {
    await sleep(latencyMs);
    if (answer === 'hang') return;
    if (answer === 'reset') {
      req.socket.destroy();
      return;
    }
    call.status = answer.status;
    send(res, answer);
  }

  function resetThrottles(): void {
    throttle.reset();
    huntingThrottle.reset();
    batchThrottle.reset();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port ?? 0, listen.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = listen.host && listen.host !== '0.0.0.0' && listen.host !== '::' ? listen.host : '127.0.0.1';

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    tenant,
    options,
    get calls() {
      return calls;
    },
    resetCalls: admin.resetCalls,
    resetThrottle: resetThrottles,
    injectFault: (rule) => faults.add(rule),
    clearFaults: () => faults.clear(),
    retireMachine: (id) => void retiredMachineIds.add(id.toLowerCase()),
    now: () => new Date(changes.clock.nowMs()),
    createAlert: (alert) => structuredClone(changes.create(alert)),
    updateAlert: (id, edit) => structuredClone(changes.update(id, edit)),
    close: () =>
      new Promise<void>((resolve) => {
        stopBackground();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function bearer(
  req: IncomingMessage,
  tokens: ReadonlyMap<string, SimulatorToken>,
): SimulatorToken | undefined {
  const match = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '');
  return match ? tokens.get(match[1]!.trim()) : undefined;
}

function send(res: ServerResponse, answer: Answer): void {
  const headers: Record<string, string | number> = { ...answer.headers };
  let body = '';
  if ('malformed' in answer) {
    body = '{"@odata.context":"…","value":[{"id":"';
    headers['Content-Type'] = JSON_TYPE;
  } else if ('text' in answer) {
    body = answer.text;
    headers['Content-Type'] = 'text/plain; charset=utf-8';
  } else if ('json' in answer) {
    body = JSON.stringify(answer.json);
    headers['Content-Type'] = answer.status < 400 ? JSON_TYPE : ERROR_TYPE;
  }
  if (answer.status < 300) headers['OData-Version'] = '4.0';
  headers['Content-Length'] = Buffer.byteLength(body);
  res.writeHead(answer.status, headers).end(body);
}
