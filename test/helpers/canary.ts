import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Canaries: recognisable fake secrets that the gateway holds (its Defender bearer token, a client secret or
 * an upstream message it must not repeat). Tests give them to the gateway, and `canary-reporter.ts` fails the
 * whole run if either is ever printed; {@link assertNoCanary} checks a response, a log or a cache.
 *
 * They are fixed, so that a leak found in CI output can be grepped for, and never used for anything else.
 */
export const CANARY_TOKEN = 'canary-token-7d1e4b9f02c3a8e5d6f1b0a7c4e9d2f3';
export const CANARY_SECRET = 'canary-secret-5a9c1e3f7b2d4c6e8a0f9b1d3e5c7a2b';

/** Both canaries with the names a report gives them (never their values, which would leak them again). */
export const CANARIES: readonly { readonly name: string; readonly value: string }[] = [
  { name: 'CANARY_TOKEN', value: CANARY_TOKEN },
  { name: 'CANARY_SECRET', value: CANARY_SECRET },
];

/** Which canaries `text` contains, by name. */
export function findCanaries(text: string): string[] {
  return CANARIES.filter(({ value }) => text.includes(value)).map(({ name }) => name);
}

/** `text` with every canary replaced by its name, so that a report about a leak does not leak it. */
export function redactCanaries(text: string): string {
  return CANARIES.reduce((out, { name, value }) => out.replaceAll(value, `<${name}>`), text);
}

/**
 * Throws when `text` contains a canary. The message names the canary and shows the redacted text around the
 * first occurrence, never the canary itself, so a failing assertion does not print the secret it found.
 */
export function assertNoCanary(text: string, where: string): void {
  for (const { name, value } of CANARIES) {
    const at = text.indexOf(value);
    if (at === -1) continue;
    const around = redactCanaries(text.slice(Math.max(0, at - 120), at + value.length + 120));
    throw new Error(`${where} contains ${name} at offset ${at}: …${around}…`);
  }
}

/** A server that no request should ever reach: what it receives proves that something was sent off-route. */
export interface TrapServer {
  /** `127.0.0.1:port`. */
  readonly host: string;
  /** `http://127.0.0.1:port`. */
  readonly url: string;
  /** `METHOD url` and whether an Authorization header came along, for every request, in order. */
  readonly requests: readonly { readonly line: string; readonly authorization: boolean }[];
  close(): Promise<void>;
}

/** Starts a {@link TrapServer} on a free loopback port; it answers 418 to anything. */
export async function startTrapServer(): Promise<TrapServer> {
  const requests: { line: string; authorization: boolean }[] = [];
  const server = createServer((req, res) => {
    requests.push({
      line: `${req.method} ${req.url}`,
      authorization: req.headers.authorization !== undefined,
    });
    res.writeHead(418).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    url: `http://${host}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
