import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPHIQL_CSP, registerGraphiQL } from '../../src/graphiql/route.js';
import type { TestGateway } from '../helpers/gateway.js';
import { startTestGateway } from '../helpers/gateway.js';

/** What Chromium sends when it navigates to a URL. */
const BROWSER_ACCEPT =
  'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8';
const ASSETS_DIR = 'dist/graphiql-assets';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

/** The built page's entry files, as the server reads them. */
async function manifest(): Promise<{ script: string; style: string }> {
  const text = await readFile(`${ASSETS_DIR}/manifest.json`, 'utf8').catch(() => {
    throw new Error(
      `${ASSETS_DIR}/manifest.json is missing: run \`npm run build:graphiql\` (npm ci does it)`,
    );
  });
  return JSON.parse(text) as { script: string; style: string };
}

describe('GET /graphql', () => {
  it('answers a browser with the GraphiQL page, under a Content-Security-Policy of its own origin', async () => {
    const res = await gw.server.app.inject({ url: '/graphql', headers: { accept: BROWSER_ACCEPT } });
    const { script, style } = await manifest();

    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toBe(GRAPHIQL_CSP);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers.vary).toBe('accept');
    expect(res.body).toContain(`<script type="module" src="graphiql/assets/${script}"></script>`);
    expect(res.body).toContain(`<link rel="stylesheet" href="graphiql/assets/${style}" />`);
    // Everything the page names is relative to it: no CDN, no absolute URL.
    expect(res.body).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
  });

  it('answers the page even when the URL carries a query, without running it', async () => {
    gw.sim.resetCalls();
    const res = await gw.server.app.inject({
      url: '/graphql?query={rateLimit{api}}',
      headers: { accept: BROWSER_ACCEPT },
    });
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(gw.sim.calls).toEqual([]);
  });

  it.each([
    ['no Accept header', undefined],
    ['curl', '*/*'],
    ['a GraphQL client', 'application/graphql-response+json, application/json;q=0.9'],
    ['JSON before HTML', 'application/json, text/html'],
    ['HTML wanted less', 'text/html;q=0.5, application/json'],
  ])('stays a GraphQL-over-HTTP GET for %s', async (_, accept) => {
    const res = await gw.server.app.inject({
      url: '/graphql?query=%7BrateLimit%7Bapi%7D%7D',
      headers: { 'apollo-require-preflight': 'true', ...(accept === undefined ? {} : { accept }) },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/(graphql-response\+)?json/);
    expect(res.headers.vary).toBe('accept');
    expect(res.json()).toMatchObject({ data: { rateLimit: expect.any(Array) } });
  });

  it('leaves POST alone, whatever it accepts', async () => {
    const res = await gw.server.app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { accept: BROWSER_ACCEPT, 'content-type': 'application/json' },
      payload: { query: '{ rateLimit { api } }' },
    });
    expect(res.json()).toMatchObject({ data: { rateLimit: expect.any(Array) } });
  });
});

describe('GraphiQL assets', () => {
  it('serves every built file with its type and a year of caching (their names carry a content hash)', async () => {
    const { script, style } = await manifest();
    for (const [file, type] of [
      [script, 'text/javascript; charset=utf-8'],
      [style, 'text/css; charset=utf-8'],
    ] as const) {
      const res = await gw.server.app.inject({ url: `/graphiql/assets/${file}` });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe(type);
      expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.rawPayload.equals(await readFile(`${ASSETS_DIR}/${file}`))).toBe(true);
    }
  });

  it('sends the gzip twin to a client that accepts it', async () => {
    const { script } = await manifest();
    const res = await gw.server.app.inject({
      url: `/graphiql/assets/${script}`,
      headers: { 'accept-encoding': 'gzip, deflate, br' },
    });
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers.vary).toBe('accept-encoding');
    expect(gunzipSync(res.rawPayload).equals(await readFile(`${ASSETS_DIR}/${script}`))).toBe(true);
  });

  it.each(['manifest.json', 'missing-ABCDEFGH.js', '..%2F..%2Fpackage.json', '.hidden.js', `x.js.gz`])(
    'answers 404 for %s',
    async (file) => {
      const res = await gw.server.app.inject({ url: `/graphiql/assets/${file}` });
      expect(res.statusCode).toBe(404);
    },
  );

  it('redirects /graphiql to the page', async () => {
    const res = await gw.server.app.inject({ url: '/graphiql' });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('graphql');
  });

  it('says how to build the page when there is no build', async () => {
    const empty = await mkdtemp(`${tmpdir()}/graphiql-`);
    const app = Fastify();
    registerGraphiQL(app, { assetsDir: empty });
    app.get('/graphql', async () => ({ data: null }));
    try {
      const res = await app.inject({ url: '/graphql', headers: { accept: BROWSER_ACCEPT } });
      expect(res.statusCode).toBe(503);
      expect(res.body).toContain('npm run build:graphiql');
    } finally {
      await app.close();
      await rm(empty, { recursive: true });
    }
  });
});
