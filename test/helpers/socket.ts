import { connect } from 'node:net';
import type { Socket } from 'node:net';

/** A raw TCP connection to a server, for tests of what HTTP clients cannot do (send slowly, send nothing). */
export interface RawConnection {
  readonly socket: Socket;
  /** Everything the server sent so far, as text. */
  received(): string;
  /** Whether the connection is closed (by either side). */
  isClosed(): boolean;
  /** Resolves true once the connection closes, or false if it is still open after `ms`. */
  closedWithin(ms: number): Promise<boolean>;
  /** Resolves once `pattern` is in what the server sent, or rejects after `ms`. */
  receive(pattern: RegExp, ms?: number): Promise<string>;
  close(): void;
}

/** Opens a TCP connection to `url`'s host and port; resolves once connected. */
export async function rawConnection(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let data = '';
  let closed = false;
  const onClose: (() => void)[] = [];
  const onData: (() => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    data += chunk.toString('latin1');
    for (const listener of onData) listener();
  });
  // A reset by the server is one way of closing.
  socket.on('error', () => {});
  socket.on('close', () => {
    closed = true;
    for (const listener of onClose) listener();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return {
    socket,
    received: () => data,
    isClosed: () => closed,
    closedWithin: (ms) =>
      new Promise((resolve) => {
        if (closed) return resolve(true);
        const timer = setTimeout(() => resolve(false), ms);
        onClose.push(() => {
          clearTimeout(timer);
          resolve(true);
        });
      }),
    receive: (pattern, ms = 5_000) =>
      new Promise((resolve, reject) => {
        if (pattern.test(data)) return resolve(data);
        const timer = setTimeout(() => reject(new Error(`no ${pattern} after ${ms} ms; got ${data}`)), ms);
        const check = () => {
          if (!pattern.test(data)) return;
          clearTimeout(timer);
          resolve(data);
        };
        onData.push(check);
        onClose.push(check);
      }),
    close: () => socket.destroy(),
  };
}

/** A minimal HTTP/1.1 request, as a client would write it. */
export function httpRequest(method: string, path: string, headers: Record<string, string> = {}): string {
  const lines = Object.entries({ host: 'localhost', ...headers }).map(([name, value]) => `${name}: ${value}`);
  return `${method} ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}
