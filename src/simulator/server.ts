import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AlertDto } from '../defender/types.js';
import type { AdminControls } from './admin.js';
import { answerAdmin } from './admin.js';
import type { AlertEdit, NewAlert } from './alert-changes.js';
import { AlertChanges } from './alert-changes.js';
import { answerWrite } from './alert-writes.js';
import { systemClock } from './change-clock.js';
import type { SimulatorOptions, SimulatorToken } from './config.js';
import { DEFAULT_PRINCIPAL, HUNTING_LATENCY_FACTOR, simulatorOptions } from './config.js';
import type { Tenant } from './data.js';
import { generateTenant } from './data.js';
import type { Fault, FaultRule } from './faults.js';
import { FaultInjector } from './faults.js';
import type { Answer } from './handlers.js';
import { defenderError, handle } from './handlers.js';
import { MAX_BODY_BYTES, answerHunting, graphError, matchHuntingRoute, parseHuntingBody } from './hunting.js';
import type { SimulatorApi, SimulatorWriteApi } from './routes.js';
import { matchRoute, matchWrite } from './routes.js';
import { faultAnswer, graphThrottled, quotaExceeded, restError } from './refusals.js';
import { readBody } from './request-body.js';
import { SlidingWindowThrottle, formatTimeSpan } from './throttle.js';

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

  const server = createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      // A bug in the simulator must fail loudly in tests, not look like a Defender outage.
      console.error('simulator: unhandled error', error);
      if (!res.headersSent) send(res, defenderError(500, 'InternalServerError', ''));
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const search = q === -1 ? '' : rawUrl.slice(q + 1);

    if (path.startsWith('/_simulator/')) {
      return send(res, await answerAdmin(req, path, options.adminToken, admin));
    }
    const hunting = matchHuntingRoute(path);
    if (hunting) return serveHunting(req, res, path, search, hunting.version);

    const route = matchRoute(path);
    const write = matchWrite(req.method ?? 'GET', route);
    const token = bearer(req, tokens);
    const query = new URLSearchParams(search);
    const call: SimulatorCall = {
      seq: ++seq,
      at: clock.now(),
      method: req.method ?? 'GET',
      api: write ?? route?.api ?? null,
      path,
      id: route?.id,
      search,
      query: Object.fromEntries(query),
      caller: token ? (token.caller ?? token.token) : null,
      kql: undefined,
      timespan: undefined,
      body: undefined,
      status: 0,
      fault: undefined,
    };
    calls.push(call);

    const answer = write
      ? await respondWrite(call, write, token, req)
      : await respond(call, route, token, query, req);
    await finish(req, res, call, answer, options.latencyMs);
  }

  async function finish(
    req: IncomingMessage,
    res: ServerResponse,
    call: SimulatorCall,
    answer: Answer | 'hang' | 'reset',
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

  /**
   * Graph's advanced hunting (`docs/defender-api.md` §8) on the same port: the same tokens and device-group
   * visibility as REST, its own throttle and latency, the same faults (api `hunting`) and call log, with
   * the KQL text logged.
   */
  async function serveHunting(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    search: string,
    version: 'v1.0' | 'beta',
  ): Promise<void> {
    const token = bearer(req, tokens);
    const call: SimulatorCall = {
      seq: ++seq,
      at: clock.now(),
      method: req.method ?? 'GET',
      api: 'hunting',
      path,
      id: undefined,
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
    const body = await readBody(req, MAX_BODY_BYTES);
    call.body = body;
    const parsed = body === undefined ? undefined : parseHuntingBody(body, req.headers['content-type']);
    if (parsed !== undefined && typeof parsed !== 'string') {
      call.kql = parsed.query;
      call.timespan = parsed.timespan;
    }
    const answer = await respondHunting();
    await finish(req, res, call, answer, huntingLatencyMs);

    async function respondHunting(): Promise<Answer | 'hang' | 'reset'> {
      if (!token) {
        return graphError(401, 'InvalidAuthenticationToken', 'Access token is empty or invalid.');
      }
      if (req.method !== 'POST')
        return graphError(405, 'Request_BadRequest', `Method ${req.method} is not allowed.`);
      const refusal = huntingThrottle.admit(`hunting ${call.caller}`, call.at);
      if (refusal) {
        const { window, retryAfterSeconds } = refusal;
        return graphThrottled(
          retryAfterSeconds,
          `API calls quota exceeded! Maximum allowed ${window.limit} per ${formatTimeSpan(window.windowSeconds)}. You can send requests again in ${retryAfterSeconds} seconds.`,
        );
      }
      const fault = faults.next('hunting');
      if (fault) call.fault = fault.kind;
      if (fault && fault.kind !== 'slow') {
        return faultAnswer(fault, (status) =>
          status === 503
            ? graphError(503, 'ServiceUnavailable', 'The service is temporarily unavailable.')
            : graphError(status, 'InternalServerError', 'An internal server error occurred.'),
        );
      }
      if (fault?.kind === 'slow') await sleep(fault.delayMs);
      if (body === undefined) {
        return graphError(413, 'RequestEntityTooLarge', `The request body is over ${MAX_BODY_BYTES} bytes.`);
      }
      if (typeof parsed === 'string') return graphError(400, 'BadRequest', parsed);
      const rbac = token.rbacGroupIds;
      return answerHunting({
        tenant,
        version,
        origin: `http://${req.headers.host ?? 'localhost'}`,
        query: parsed!.query,
        timespan: parsed!.timespan,
        rbacGroupIds: rbac ? new Set(rbac) : undefined,
      });
    }
  }

  async function respond(
    call: SimulatorCall,
    route: ReturnType<typeof matchRoute>,
    token: SimulatorToken | undefined,
    query: URLSearchParams,
    req: IncomingMessage,
  ): Promise<Answer | 'hang' | 'reset'> {
    if (!token) {
      return defenderError(401, 'Unauthorized', 'Unauthorized request - Missing or invalid bearer token.');
    }
    if (!route) return { status: 404, empty: true };
    if (req.method !== 'GET') return defenderError(405, 'BadRequest', `Method ${req.method} is not allowed.`);

    const refusal = throttle.admit(`${route.api} ${call.caller}`, call.at);
    if (refusal) return quotaExceeded(refusal);

    const fault = faults.next(route.api, call.id);
    if (fault) call.fault = fault.kind;
    if (fault && fault.kind !== 'slow') return faultAnswer(fault, restError);
    if (fault?.kind === 'slow') await sleep(fault.delayMs);
    const rbac = token.rbacGroupIds;
    return handle({
      tenant,
      route,
      query,
      path: call.path,
      origin: `http://${req.headers.host ?? 'localhost'}`,
      rbacGroupIds: rbac ? new Set(rbac) : undefined,
      pageSize: options.pageSize,
      now: clock.now(),
      retiredMachineIds,
    });
  }

  /**
   * Defender's alert writes (`docs/defender-api.md` §9), through the same auth, throttling (PATCH per route
   * template like every API, batchUpdate on its own windows), faults and call log as reads. A fault that
   * answers an error status (`status`, `throttle`, `redirect`) stands for a write that never happened; one
   * that leaves the caller without a usable answer (`hang`, `reset`, `malformed`, `body`) or only late
   * (`slow`) lets the write land first, so a client that retries blindly posts its comment twice.
   */
  async function respondWrite(
    call: SimulatorCall,
    api: SimulatorWriteApi,
    token: SimulatorToken | undefined,
    req: IncomingMessage,
  ): Promise<Answer | 'hang' | 'reset'> {
    const body = await readBody(req, MAX_BODY_BYTES);
    call.body = body;
    if (!token) {
      return defenderError(401, 'Unauthorized', 'Unauthorized request - Missing or invalid bearer token.');
    }
    const refusal = (api === 'POST alerts/batchUpdate' ? batchThrottle : throttle).admit(
      `${api} ${call.caller}`,
      call.at,
    );
    if (refusal) return quotaExceeded(refusal);
    const fault = faults.next(api);
    if (fault) call.fault = fault.kind;
    if (fault && (fault.kind === 'status' || fault.kind === 'throttle' || fault.kind === 'redirect')) {
      return faultAnswer(fault, restError);
    }
    if (fault?.kind === 'slow') await sleep(fault.delayMs);
    if (body === undefined) {
      return defenderError(413, 'InvalidRequestBody', `The request body is over ${MAX_BODY_BYTES} bytes.`);
    }
    const rbac = token.rbacGroupIds;
    const answer = answerWrite({
      api,
      id: call.id,
      body,
      contentType: req.headers['content-type'],
      tenant,
      changes,
      rbacGroupIds: rbac ? new Set(rbac) : undefined,
      author: token.principal ?? DEFAULT_PRINCIPAL,
      origin: `http://${req.headers.host ?? 'localhost'}`,
    });
    return fault && fault.kind !== 'slow' ? faultAnswer(fault, restError) : answer;
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
