import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, httpRefusal } from '../errors.js';
import { sendRefusal } from './refusals.js';

/** The request parameters that carry arbitrary JSON. */
const JSON_PARAMETERS = ['variables', 'extensions'] as const;

/**
 * Bounds the nesting of a GraphQL request's `variables` and `extensions` (in a POST body, or JSON in a GET's
 * query string) before Apollo sees them: JSON.parse takes any depth, but the code after it recurses (a cache
 * key's JSON.stringify overflows the stack near 5,000 levels), and no input of this schema is deeper than a
 * few levels. Deeper is BAD_USER_INPUT, HTTP 400, with no GraphQL run. What is not JSON is left to Apollo,
 * which refuses it in the same shape.
 */
export function boundedRequest(maxDepth: number) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    for (const operation of operationsOf(request)) {
      for (const name of JSON_PARAMETERS) {
        const value = request.method === 'GET' ? parsedOrUndefined(operation[name]) : operation[name];
        if (deeperThan(value, maxDepth)) {
          return sendRefusal(
            reply,
            httpRefusal(
              400,
              ErrorCode.BadUserInput,
              `\`${name}\` is nested deeper than ${maxDepth} levels of objects and lists.`,
            ),
          );
        }
      }
    }
    return undefined;
  };
}

/** The operations a request holds: its query string (GET), its body object, or each of a batch's. */
function operationsOf(request: FastifyRequest): Record<string, unknown>[] {
  const carrier = request.method === 'GET' ? request.query : request.body;
  const items = Array.isArray(carrier) ? carrier : [carrier];
  return items.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null);
}

/** A GET parameter's JSON, or undefined when it is absent, repeated or not JSON (Apollo refuses those). */
function parsedOrUndefined(raw: unknown): unknown {
  if (typeof raw !== 'string') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/** Whether objects and lists nest more than `max` deep, without recursion (so any depth is safe to measure). */
function deeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}
