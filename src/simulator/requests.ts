// Request handling behind the simulator's dispatch: auth, throttling and faults, then the route's own answer.
import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AlertChanges } from './alert-changes.js';
import { answerWrite } from './alert-writes.js';
import type { SimulatorClock } from './change-clock.js';
import type { SimulatorOptions, SimulatorToken } from './config.js';
import { DEFAULT_PRINCIPAL } from './config.js';
import type { Tenant } from './data.js';
import type { FaultInjector } from './faults.js';
import type { Answer } from './handlers.js';
import { defenderError, handle } from './handlers.js';
import { MAX_BODY_BYTES, answerHunting, graphError, parseHuntingBody } from './hunting.js';
import type { RouteMatch, SimulatorWriteApi } from './routes.js';
import { faultAnswer, graphThrottled, quotaExceeded, restError } from './refusals.js';
import { readBody } from './request-body.js';
import type { SimulatorCall } from './server.js';
import type { SlidingWindowThrottle } from './throttle.js';
import { formatTimeSpan } from './throttle.js';

/** What a request is answered with, or `hang`/`reset` for a fault that leaves the connection without one. */
export type Outcome = Answer | 'hang' | 'reset';

/** The simulator's state a request is answered from: one per started simulator. */
export interface RequestContext {
  readonly tenant: Tenant;
  readonly options: SimulatorOptions;
  readonly clock: SimulatorClock;
  readonly changes: AlertChanges;
  readonly faults: FaultInjector;
  /** Every REST API's windows, PATCH included. */
  readonly throttle: SlidingWindowThrottle;
  /** `POST alerts/batchUpdate`'s own windows. */
  readonly batchThrottle: SlidingWindowThrottle;
  readonly huntingThrottle: SlidingWindowThrottle;
  /** Lower-case ids of machines Defender no longer returns. */
  readonly retiredMachineIds: ReadonlySet<string>;
}

const UNAUTHORIZED = 'Unauthorized request - Missing or invalid bearer token.';

/** Where links in an answer point: the host the caller used. */
const originOf = (req: IncomingMessage): string => `http://${req.headers.host ?? 'localhost'}`;

const rbacOf = (token: SimulatorToken): ReadonlySet<number> | undefined =>
  token.rbacGroupIds ? new Set(token.rbacGroupIds) : undefined;

/** A Defender read route (`GET`), or the empty 404 Defender answers for a path it does not have. */
export async function answerRead(
  context: RequestContext,
  call: SimulatorCall,
  route: RouteMatch | undefined,
  token: SimulatorToken | undefined,
  query: URLSearchParams,
  req: IncomingMessage,
): Promise<Outcome> {
  if (!token) return defenderError(401, 'Unauthorized', UNAUTHORIZED);
  if (!route) return { status: 404, empty: true };
  if (req.method !== 'GET') return defenderError(405, 'BadRequest', `Method ${req.method} is not allowed.`);

  const refusal = context.throttle.admit(`${route.api} ${call.caller}`, call.at);
  if (refusal) return quotaExceeded(refusal);

  const fault = context.faults.next(route.api, call.id);
  if (fault) call.fault = fault.kind;
  if (fault && fault.kind !== 'slow') return faultAnswer(fault, restError);
  if (fault?.kind === 'slow') await sleep(fault.delayMs);
  return handle({
    tenant: context.tenant,
    route,
    query,
    path: call.path,
    origin: originOf(req),
    rbacGroupIds: rbacOf(token),
    pageSize: context.options.pageSize,
    now: context.clock.now(),
    retiredMachineIds: context.retiredMachineIds,
  });
}

/**
 * Defender's alert writes (`docs/defender-api.md` §9), through the same auth, throttling (PATCH per route
 * template like every API, batchUpdate on its own windows), faults and call log as reads. A fault that
 * answers an error status (`status`, `throttle`, `redirect`) stands for a write that never happened; one
 * that leaves the caller without a usable answer (`hang`, `reset`, `malformed`, `body`) or only late
 * (`slow`) lets the write land first, so a client that retries blindly posts its comment twice.
 */
export async function answerWriteRequest(
  context: RequestContext,
  call: SimulatorCall,
  api: SimulatorWriteApi,
  token: SimulatorToken | undefined,
  req: IncomingMessage,
): Promise<Outcome> {
  const body = await readBody(req, MAX_BODY_BYTES);
  call.body = body;
  if (!token) return defenderError(401, 'Unauthorized', UNAUTHORIZED);
  const refusal = (api === 'POST alerts/batchUpdate' ? context.batchThrottle : context.throttle).admit(
    `${api} ${call.caller}`,
    call.at,
  );
  if (refusal) return quotaExceeded(refusal);
  const fault = context.faults.next(api, call.id);
  if (fault) call.fault = fault.kind;
  if (fault && (fault.kind === 'status' || fault.kind === 'throttle' || fault.kind === 'redirect')) {
    return faultAnswer(fault, restError);
  }
  if (fault?.kind === 'slow') await sleep(fault.delayMs);
  if (body === undefined) {
    return defenderError(413, 'InvalidRequestBody', `The request body is over ${MAX_BODY_BYTES} bytes.`);
  }
  const answer = answerWrite({
    api,
    id: call.id,
    body,
    contentType: req.headers['content-type'],
    tenant: context.tenant,
    changes: context.changes,
    rbacGroupIds: rbacOf(token),
    author: token.principal ?? DEFAULT_PRINCIPAL,
    origin: originOf(req),
  });
  return fault && fault.kind !== 'slow' ? faultAnswer(fault, restError) : answer;
}

/**
 * Graph's advanced hunting (`docs/defender-api.md` §8): the same tokens and device-group visibility as REST,
 * its own throttle, the same faults (api `hunting`) and call log, with the KQL text logged on `call`.
 */
export async function answerHuntingRequest(
  context: RequestContext,
  call: SimulatorCall,
  token: SimulatorToken | undefined,
  req: IncomingMessage,
  version: 'v1.0' | 'beta',
): Promise<Outcome> {
  const body = await readBody(req, MAX_BODY_BYTES);
  call.body = body;
  const parsed = body === undefined ? undefined : parseHuntingBody(body, req.headers['content-type']);
  if (parsed !== undefined && typeof parsed !== 'string') {
    call.kql = parsed.query;
    call.timespan = parsed.timespan;
  }
  if (!token) {
    return graphError(401, 'InvalidAuthenticationToken', 'Access token is empty or invalid.');
  }
  if (req.method !== 'POST')
    return graphError(405, 'Request_BadRequest', `Method ${req.method} is not allowed.`);
  const refusal = context.huntingThrottle.admit(`hunting ${call.caller}`, call.at);
  if (refusal) {
    const { window, retryAfterSeconds } = refusal;
    return graphThrottled(
      retryAfterSeconds,
      `API calls quota exceeded! Maximum allowed ${window.limit} per ${formatTimeSpan(window.windowSeconds)}. You can send requests again in ${retryAfterSeconds} seconds.`,
    );
  }
  const fault = context.faults.next('hunting');
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
  return answerHunting({
    tenant: context.tenant,
    version,
    origin: originOf(req),
    query: parsed!.query,
    timespan: parsed!.timespan,
    rbacGroupIds: rbacOf(token),
  });
}
