import type { AlertDto } from '../../src/defender/types.js';
import type { SimulatorClock } from '../../src/simulator/change-clock.js';
import type { Simulator } from '../../src/simulator/server.js';
import type { HttpAnswer } from '../helpers/http.js';
import { values } from '../helpers/http.js';
import { TOKEN, call } from '../helpers/simulator.js';

/** A tenant small enough to generate per test, so that each test writes to its own. */
export const SMALL = { machines: 40, users: 20, alerts: 150 } as const;

/** A clock that moves only when told, in ms since the epoch. */
export interface ManualClock extends SimulatorClock {
  advance(ms: number): void;
}

export function manualClock(startMs = 1_000_000): ManualClock {
  let t = startMs;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/** Sends a write (`PATCH`, `POST`) with a body, as a Defender client would: JSON unless told otherwise. */
export async function write(
  sim: Simulator,
  method: string,
  path: string,
  body: unknown,
  options: { token?: string | null; contentType?: string | null; raw?: boolean } = {},
): Promise<HttpAnswer> {
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? TOKEN : options.token;
  if (token !== null) headers['Authorization'] = `Bearer ${token}`;
  const contentType = options.contentType === undefined ? 'application/json' : options.contentType;
  if (contentType !== null) headers['Content-Type'] = contentType;
  const res = await fetch(`${sim.url}${path}`, {
    method,
    headers,
    body: options.raw ? (body as string) : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** The alert as `GET /api/alerts/{id}` answers it now. */
export async function getAlert(sim: Simulator, id: string): Promise<AlertDto> {
  return (await call(sim, `/api/alerts/${encodeURIComponent(id)}`)).json as AlertDto;
}

/** Every alert changed after `watermark`, as a poller asks for them: oldest change first, every page. */
export async function changedSince(sim: Simulator, watermark: string): Promise<AlertDto[]> {
  const alerts: AlertDto[] = [];
  let next: string | undefined =
    `/api/alerts?$filter=${encodeURIComponent(`lastUpdateTime gt ${watermark}`)}&$orderby=lastUpdateTime`;
  while (next) {
    const page = await call(sim, next);
    alerts.push(...values<AlertDto>(page));
    const link = (page.json as { '@odata.nextLink'?: string })['@odata.nextLink'];
    next = link?.slice(sim.url.length);
  }
  return alerts;
}

/** The newest `lastUpdateTime` in the tenant, as a poller starts: the first watermark. */
export async function latestUpdate(sim: Simulator): Promise<string> {
  const [newest] = values<AlertDto>(await call(sim, '/api/alerts?$orderby=lastUpdateTime desc&$top=1'));
  return newest!.lastUpdateTime!;
}
