import type { DefenderApi } from './apis.js';
import { BATCH_UPDATE_API } from './apis.js';

/** One call: the API, its `{id}` (validated by the caller, encoded here) and its OData options. */
export interface DefenderRequest {
  readonly api: DefenderApi;
  readonly id?: string;
  readonly query?: Readonly<Record<string, string>>;
}

/**
 * The URL of a call under `baseUrl` (without `/api`). The id is percent-encoded into exactly one path segment;
 * the result is checked to still be on the API's route, so no id can reach another route or host.
 */
export function urlFor(baseUrl: URL, { api, id, query }: DefenderRequest): URL {
  if (api.includes('{id}') !== (id !== undefined))
    throw new Error(`${api} needs ${id === undefined ? 'an' : 'no'} id`);
  const prefix = baseUrl.pathname.replace(/\/+$/, '');
  const path = `${prefix}/api/${api.replace('{id}', () => encodeURIComponent(id!))}`;
  const search = Object.entries(query ?? {})
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join('&');
  const url = new URL(`${baseUrl.origin}${path}${search ? `?${search}` : ''}`);
  if (url.origin !== baseUrl.origin || url.pathname !== path)
    throw new Error(`refusing a URL that left its route`);
  return url;
}

/** Routes answering one entity; every other route answers an OData collection (`{ value: [...] }`). */
const ENTITY_APIS: ReadonlySet<DefenderApi> = new Set([
  'machines/{id}',
  'alerts/{id}',
  'alerts/{id}:patch',
  'alerts/{id}/user',
  'alerts/{id}/machine',
]);

/** Whether `api` documents an answer with no body (`alerts/batchUpdate`: "200 OK", nothing else). */
export function answersNothing(api: DefenderApi): boolean {
  return api === BATCH_UPDATE_API;
}

/**
 * Whether `body` has the shape `api` documents: an entity with a string `id`, or a collection of them; for
 * batchUpdate, whose answer is empty, anything (the alerts are read back).
 */
export function hasDocumentedShape(api: DefenderApi, body: unknown): boolean {
  if (api === 'hunting') return isHuntingResult(body);
  if (answersNothing(api)) return true;
  const isEntity = (v: unknown) =>
    typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string';
  if (ENTITY_APIS.has(api)) return isEntity(body);
  const value = typeof body === 'object' && body !== null ? (body as { value?: unknown }).value : undefined;
  return Array.isArray(value) && value.every(isEntity);
}

/** Graph's hunting answer: `{ schema: [{ name, type }…], results: [{…}…] }` (either case of `name`). */
function isHuntingResult(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const { schema, results } = body as { schema?: unknown; results?: unknown };
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  return Array.isArray(schema) && schema.every(isObject) && Array.isArray(results) && results.every(isObject);
}
