import type { IncomingMessage } from 'node:http';
import type { AlertChanges, AlertEdit, NewAlert } from './alert-changes.js';
import { AlertChangeError } from './alert-changes.js';
import type { FaultInjector, FaultRule } from './faults.js';
import type { Answer } from './handlers.js';
import { MAX_BODY_BYTES } from './hunting.js';
import { readBody } from './request-body.js';

/** The test state the admin routes control. */
export interface AdminControls {
  readonly calls: () => readonly unknown[];
  readonly resetCalls: () => void;
  readonly faults: FaultInjector;
  readonly resetThrottles: () => void;
  readonly changes: AlertChanges;
}

const NOT_FOUND: Answer = { status: 404, empty: true };
const DONE: Answer = { status: 204, empty: true };
const ALERT_PATH = /^\/_simulator\/alerts(?:\/([^/]+))?$/;

/**
 * Test control over HTTP, for simulators in another process, only for callers sending
 * `x-simulator-admin: <adminToken>` (anyone else, and any unknown route, gets an empty 404, as for a route
 * Defender does not have): the call log, fault rules, the throttle, the clock and alert changes.
 */
export async function answerAdmin(
  req: IncomingMessage,
  path: string,
  adminToken: string | undefined,
  controls: AdminControls,
): Promise<Answer> {
  if (!adminToken || req.headers['x-simulator-admin'] !== adminToken) return NOT_FOUND;
  const route = `${req.method ?? 'GET'} ${path}`;
  switch (route) {
    case 'GET /_simulator/calls':
      return { status: 200, json: controls.calls() };
    case 'DELETE /_simulator/calls':
      controls.resetCalls();
      return DONE;
    case 'POST /_simulator/faults':
      try {
        controls.faults.add(JSON.parse((await readBody(req)) ?? '') as FaultRule);
        return DONE;
      } catch (error) {
        return { status: 400, json: { error: (error as Error).message } };
      }
    case 'DELETE /_simulator/faults':
      controls.faults.clear();
      return DONE;
    case 'DELETE /_simulator/throttle':
      controls.resetThrottles();
      return DONE;
    case 'GET /_simulator/now': {
      const { clock } = controls.changes;
      return { status: 200, json: { now: clock.format(clock.current()) } };
    }
  }
  const alert = ALERT_PATH.exec(path);
  if (alert && (req.method === 'POST' || req.method === 'PATCH')) {
    return answerAlertChange(req, alert[1], controls.changes);
  }
  return NOT_FOUND;
}

/** `POST /_simulator/alerts` creates an alert (201), `PATCH /_simulator/alerts/{id}` changes one (200). */
async function answerAlertChange(
  req: IncomingMessage,
  rawId: string | undefined,
  changes: AlertChanges,
): Promise<Answer> {
  if ((req.method === 'POST') !== (rawId === undefined)) return { status: 405, empty: true };
  const body = await readBody(req, MAX_BODY_BYTES);
  if (body === undefined)
    return { status: 413, json: { error: `The body is over ${MAX_BODY_BYTES} bytes.` } };
  try {
    const input = body.trim() === '' ? {} : (JSON.parse(body) as unknown);
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      return { status: 400, json: { error: 'The request body must be a JSON object.' } };
    }
    return rawId === undefined
      ? { status: 201, json: changes.create(input as NewAlert) }
      : { status: 200, json: changes.update(decodeURIComponent(rawId), input as AlertEdit) };
  } catch (error) {
    if (error instanceof AlertChangeError) return { status: error.status, json: { error: error.message } };
    if (error instanceof SyntaxError || error instanceof URIError) {
      return { status: 400, json: { error: error.message } };
    }
    throw error;
  }
}
