import type { SimulatorOptions } from '../../src/simulator/config.js';
import type { Simulator } from '../../src/simulator/server.js';
import { startSimulator } from '../../src/simulator/server.js';
import type { HttpAnswer } from './http.js';
import { httpGet } from './http.js';

export const TOKEN = 'simulator-token';

/** A simulator for one test file: no latency unless asked, default tenant and limits. */
export async function testSimulator(overrides: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  return startSimulator({ latencyMs: 0, ...overrides });
}

/** GET `path` (under the base URL, e.g. `/api/machines`) with a bearer token. */
export function call(sim: Simulator, path: string, token: string | null = TOKEN): Promise<HttpAnswer> {
  return httpGet(`${sim.url}${path}`, token === null ? {} : { Authorization: `Bearer ${token}` });
}
