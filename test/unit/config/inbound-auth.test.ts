import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.js';

describe('inbound auth configuration (loadConfig)', () => {
  const realDefender = {
    DEFENDER_API_URL: 'https://api.security.microsoft.com',
    DEFENDER_TOKEN: 'static-token',
  };
  const jwt = {
    AUTH_ISSUER: 'https://login.microsoftonline.com/tenant/v2.0',
    AUTH_AUDIENCE: 'api://defender-graph',
    AUTH_JWKS_URI: 'https://login.microsoftonline.com/tenant/discovery/v2.0/keys',
  };
  const configError = (env: NodeJS.ProcessEnv): ConfigError => {
    try {
      loadConfig(env);
    } catch (error) {
      if (error instanceof ConfigError) return error;
      throw error;
    }
    throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
  };

  it('requires AUTH_ISSUER, AUTH_AUDIENCE and AUTH_JWKS_URI in front of a real Defender, naming each', () => {
    expect(configError(realDefender).message).toMatch(/^AUTH_ISSUER: required/);
    expect(configError({ ...realDefender, AUTH_ISSUER: jwt.AUTH_ISSUER }).message).toMatch(
      /^AUTH_AUDIENCE: required/,
    );
    expect(
      configError({ ...realDefender, AUTH_ISSUER: jwt.AUTH_ISSUER, AUTH_AUDIENCE: jwt.AUTH_AUDIENCE })
        .message,
    ).toMatch(/^AUTH_JWKS_URI: required/);
    expect(configError({ ...realDefender, AUTH_MODE: 'jwt' }).message).toMatch(/^AUTH_ISSUER/);
    // Empty is unset.
    expect(configError({ ...realDefender, ...jwt, AUTH_AUDIENCE: '  ' }).message).toMatch(/^AUTH_AUDIENCE/);
  });

  it('defaults to jwt with RS256 in front of a real Defender, and to none with the embedded simulator', () => {
    expect(loadConfig({ ...realDefender, ...jwt }).auth).toEqual({
      mode: 'jwt',
      issuer: jwt.AUTH_ISSUER,
      audience: jwt.AUTH_AUDIENCE,
      jwksUri: new URL(jwt.AUTH_JWKS_URI),
      algorithms: ['RS256'],
      writeRole: 'DefenderGraph.Triage',
    });
    expect(loadConfig({ ...realDefender, ...jwt, AUTH_WRITE_ROLE: 'Alerts.Triage' }).auth).toMatchObject({
      writeRole: 'Alerts.Triage',
    });
    expect(configError({ ...realDefender, ...jwt, AUTH_WRITE_ROLE: 'two words' }).message).toMatch(
      /^AUTH_WRITE_ROLE/,
    );
    expect(loadConfig({}).auth).toEqual({ mode: 'none' });
    // none in front of a real Defender only when asked for explicitly.
    expect(loadConfig({ ...realDefender, AUTH_MODE: 'none' }).auth).toEqual({ mode: 'none' });
    expect(configError({ ...realDefender, AUTH_MODE: 'off' }).message).toMatch(/^AUTH_MODE/);
  });

  it('refuses AUTH_ALGORITHMS none or HMAC, alone or in a list', () => {
    for (const algorithms of ['none', 'HS256', 'RS256,none', 'RS256, HS256', 'HS512', 'NONE', 'RS256,']) {
      expect(
        configError({ ...realDefender, ...jwt, AUTH_ALGORITHMS: algorithms }).message,
        algorithms,
      ).toMatch(/^AUTH_ALGORITHMS/);
    }
    const config = loadConfig({ ...realDefender, ...jwt, AUTH_ALGORITHMS: 'RS256, PS256,ES256' });
    expect(config.auth.mode === 'jwt' && config.auth.algorithms).toEqual(['RS256', 'PS256', 'ES256']);
  });

  it('takes the keys over https, or http on loopback only', () => {
    for (const uri of ['http://login.example.com/keys', 'ftp://127.0.0.1/keys', 'not a url']) {
      expect(configError({ ...realDefender, ...jwt, AUTH_JWKS_URI: uri }).message, uri).toMatch(
        /^AUTH_JWKS_URI/,
      );
    }
    const config = loadConfig({ ...realDefender, ...jwt, AUTH_JWKS_URI: 'http://127.0.0.1:8080/keys' });
    expect(config.auth.mode === 'jwt' && config.auth.jwksUri.href).toBe('http://127.0.0.1:8080/keys');
  });

  it('passes AUTH_REQUIRED_ROLE and AUTH_REQUIRED_SCOPE on', () => {
    const config = loadConfig({
      ...realDefender,
      ...jwt,
      AUTH_REQUIRED_ROLE: 'Defender.Read',
      AUTH_REQUIRED_SCOPE: 'access_as_user',
    });
    expect(config.auth).toMatchObject({ requiredRole: 'Defender.Read', requiredScope: 'access_as_user' });
  });

  it('refuses DEFENDER_AUTH_MODE=obo without jwt inbound auth or without MSAL credentials', () => {
    const msal = {
      DEFENDER_API_URL: 'https://api.security.microsoft.com',
      AZURE_TENANT_ID: 'tenant',
      AZURE_CLIENT_ID: 'client',
      AZURE_CLIENT_SECRET: 'secret',
    };
    expect(configError({ ...msal, AUTH_MODE: 'none', DEFENDER_AUTH_MODE: 'obo' }).message).toMatch(
      /^DEFENDER_AUTH_MODE/,
    );
    expect(configError({ ...realDefender, ...jwt, DEFENDER_AUTH_MODE: 'obo' }).message).toMatch(
      /^DEFENDER_AUTH_MODE/,
    );
    expect(loadConfig({ ...msal, ...jwt, DEFENDER_AUTH_MODE: 'obo' }).defenderAuthMode).toBe('obo');
  });
});
