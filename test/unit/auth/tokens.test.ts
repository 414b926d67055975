import { describe, expect, it } from 'vitest';
import { StaticTokenProvider } from '../../../src/auth/tokens.js';

describe('StaticTokenProvider', () => {
  const token = 'eyJhbGciOi.static-token-canary.signature';

  it('returns the token it was given', async () => {
    await expect(new StaticTokenProvider(token).getToken()).resolves.toBe(token);
  });

  it('derives a stable identity from a hash of the token, never the token itself', () => {
    const identity = new StaticTokenProvider(token).identity;
    expect(identity).toMatch(/^static:[0-9a-f]{16}$/);
    expect(identity).toBe(new StaticTokenProvider(token).identity);
    expect(identity).not.toBe(new StaticTokenProvider(`${token}x`).identity);
    expect(identity).not.toContain('static-token-canary');
  });

  it('uses an explicit identity when given one', () => {
    expect(new StaticTokenProvider(token, 'tenant-a/app').identity).toBe('tenant-a/app');
  });

  it('refuses an empty token, and an aborted caller', async () => {
    expect(() => new StaticTokenProvider('  ')).toThrow(/non-empty token/);
    const reason = new Error('aborted');
    await expect(new StaticTokenProvider(token).getToken(AbortSignal.abort(reason))).rejects.toBe(reason);
  });
});
