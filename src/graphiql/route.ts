import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Where GraphiQL is served: at the GraphQL endpoint itself, to browsers (the contract's `GET /graphql`). */
const ENDPOINT = '/graphql';
/** Where its static files are served, relative to the page as `graphiql/assets/…` (so a path prefix works). */
const ASSETS_PATH = '/graphiql/assets';

/**
 * The page's Content-Security-Policy: every script, worker, stylesheet and request is this server's own, and no
 * inline or eval'd script runs. Styles may be inline, as Monaco renders its lines with `style` attributes and
 * Monaco and GraphiQL's dialogs add `<style>` elements at run time; fonts and icons are data: URLs in the CSS.
 */
export const GRAPHIQL_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "img-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export interface GraphiQLOptions {
  /** The folder `npm run build:graphiql` writes. Default: this package's `dist/graphiql-assets/`. */
  readonly assetsDir?: string;
}

/** The entry files of a build, as `scripts/build-graphiql.ts` records them in `manifest.json`. */
interface Manifest {
  readonly script: string;
  readonly style: string;
}

/**
 * Serves GraphiQL from this package: the page for a browser's `GET /graphql` (one that prefers HTML; every
 * other GET stays a GraphQL request), its hashed static files under `/graphiql/assets/`, and `/graphiql` as a
 * redirect to the page. Nothing is cached in memory, so a rebuild is served as soon as it is written.
 */
export function registerGraphiQL(app: FastifyInstance, options: GraphiQLOptions = {}): void {
  const assetsDir =
    options.assetsDir ?? fileURLToPath(new URL('../../dist/graphiql-assets/', import.meta.url));

  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'GET' || request.routeOptions.url !== ENDPOINT) return;
    // The same URL answers HTML or JSON depending on Accept, which caches must know.
    void reply.header('vary', 'accept');
    if (!prefersHtml(request.headers.accept)) return;
    await sendPage(reply, assetsDir);
    return reply;
  });

  app.get('/graphiql', async (_, reply) => reply.redirect('graphql', 302));

  app.get<{ Params: { file: string } }>(`${ASSETS_PATH}/:file`, async (request, reply) => {
    const { file } = request.params;
    const type = contentTypeOf(file);
    const size = type ? await sizeOf(`${assetsDir}/${file}`) : undefined;
    // Not found like any unknown path: the server's one 404, in the one error shape.
    if (!type || size === undefined) return reply.callNotFound();
    const gzipSize = /\bgzip\b/.test(request.headers['accept-encoding'] ?? '')
      ? await sizeOf(`${assetsDir}/${file}.gz`)
      : undefined;
    void reply
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('x-content-type-options', 'nosniff')
      .header('vary', 'accept-encoding')
      .type(type);
    if (gzipSize !== undefined) {
      void reply.header('content-encoding', 'gzip').header('content-length', gzipSize);
      return reply.send(createReadStream(`${assetsDir}/${file}.gz`));
    }
    void reply.header('content-length', size);
    return reply.send(createReadStream(`${assetsDir}/${file}`));
  });
}

/** The page, or a 503 that says how to build it: a missing build must not look like a missing route. */
async function sendPage(reply: FastifyReply, assetsDir: string): Promise<void> {
  const manifest = await readManifest(assetsDir);
  void reply.header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff');
  if (!manifest) {
    await reply
      .code(503)
      .type('text/plain; charset=utf-8')
      .send('GraphiQL is not built: run `npm run build:graphiql` (npm ci does it), then reload.');
    return;
  }
  await reply
    .header('content-security-policy', GRAPHIQL_CSP)
    .header('referrer-policy', 'no-referrer')
    .type('text/html; charset=utf-8')
    .send(pageHtml(manifest));
}

/** The HTML shell: GraphiQL renders into `#graphiql`; the empty icon spares a request for `/favicon.ico`. */
function pageHtml(manifest: Manifest): string {
  const asset = (file: string) => `${ASSETS_PATH.slice(1)}/${encodeURIComponent(file)}`;
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>defender-graph · GraphiQL</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="${asset(manifest.style)}" />
    <script type="module" src="${asset(manifest.script)}"></script>
  </head>
  <body>
    <div id="graphiql"></div>
  </body>
</html>
`;
}

/** The build's manifest, or undefined while there is no build (a half-written one is an error). */
async function readManifest(assetsDir: string): Promise<Manifest | undefined> {
  let text: string;
  try {
    text = await readFile(`${assetsDir}/manifest.json`, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const manifest = JSON.parse(text) as Partial<Manifest>;
  if (typeof manifest.script !== 'string' || typeof manifest.style !== 'string') {
    throw new Error(`GraphiQL: ${assetsDir}/manifest.json names no script and style`);
  }
  return { script: manifest.script, style: manifest.style };
}

/**
 * The content type of a servable asset, or undefined for any other name: only the build's own flat file
 * names (`main-X.js`, `style-X.css`), so no path, dot-file, `.gz` twin or manifest is reachable.
 */
function contentTypeOf(file: string): string | undefined {
  const match = /^[\w.-]+\.(js|css)$/.exec(file);
  if (!match || file.startsWith('.')) return undefined;
  return match[1] === 'js' ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8';
}

/** The size of a regular file, or undefined when there is none. */
async function sizeOf(path: string): Promise<number | undefined> {
  try {
    const info = await stat(path);
    return info.isFile() ? info.size : undefined;
  } catch {
    return undefined;
  }
}

/** The JSON types a GraphQL client asks for; any of them, at least as wanted as HTML, means "not a browser". */
const GRAPHQL_TYPES = new Set(['application/json', 'application/graphql-response+json', 'multipart/mixed']);

/**
 * Whether an Accept header asks for HTML before GraphQL's JSON, as a browser's navigation does
 * (`text/html,…,*\/*;q=0.8`). Only an explicit `text/html` counts: a wildcard (curl's `*\/*`) or no header
 * keeps the request a GraphQL GET. On equal weights, the type listed first wins.
 */
export function prefersHtml(accept: string | undefined): boolean {
  let html: { q: number; index: number } | undefined;
  let graphql: { q: number; index: number } | undefined;
  (accept ?? '').split(',').forEach((entry, index) => {
    const [type = '', ...params] = entry.split(';').map((part) => part.trim().toLowerCase());
    const qParam = params.find((param) => param.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!(q > 0)) return;
    if (type === 'text/html' && (!html || q > html.q)) html = { q, index };
    if (GRAPHQL_TYPES.has(type) && (!graphql || q > graphql.q)) graphql = { q, index };
  });
  if (!html) return false;
  if (!graphql) return true;
  return html.q > graphql.q || (html.q === graphql.q && html.index < graphql.index);
}
