import type { IncomingMessage } from 'node:http';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, requestIdFor } from '../../../src/ops/logger.js';

describe('the JSON logger', () => {
  it('redacts credential headers wherever they are logged', () => {
    let line = '';
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        line += chunk.toString();
        done();
      },
    });
    createLogger('info', stream).info(
      {
        authorization: 'Bearer top-level-secret',
        'x-router-secret': 'router-secret-1',
        req: { headers: { authorization: 'Bearer nested-secret', cookie: 'session=cookie-secret' } },
        headers: { 'x-router-secret': 'router-secret-2' },
      },
      'm',
    );
    for (const secret of [
      'top-level-secret',
      'router-secret-1',
      'nested-secret',
      'cookie-secret',
      'router-secret-2',
    ]) {
      expect(line).not.toContain(secret);
    }
    expect(JSON.parse(line)).toMatchObject({ level: 'info', authorization: '[redacted]', msg: 'm' });
  });
});

describe('request ids', () => {
  const withHeader = (value?: string) =>
    ({ headers: { 'x-request-id': value } }) as unknown as IncomingMessage;

  it("keeps a caller's short plain id", () => {
    expect(requestIdFor(withHeader('abc-123_4.5:6'))).toBe('abc-123_4.5:6');
  });

  it('replaces a missing, long or unsafe one with a UUID', () => {
    for (const given of [undefined, 'x'.repeat(65), 'a b', 'a\nb', '<script>']) {
      expect(requestIdFor(withHeader(given))).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});
