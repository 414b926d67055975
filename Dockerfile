# syntax=docker/dockerfile:1

# defender-graph: the GraphQL gateway, compiled to JavaScript, on Node 24.
#   docker build -t defender-graph .
#   docker run --rm -p 4000:4000 -e HOST=0.0.0.0 defender-graph      # against the embedded Defender simulator
# With AUTH_MODE=none (the default without DEFENDER_API_URL) every caller is trusted, so the gateway listens on
# the container's loopback only unless HOST=0.0.0.0 says otherwise; with AUTH_MODE=jwt it listens on every
# interface by itself.
ARG NODE_IMAGE=node:24-bookworm-slim

# Production dependencies only, installed apart from the build so that a source change does not reinstall them.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: the package's `prepare` (the GraphiQL build) needs the dev dependencies, and no production
# dependency needs an install script.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# Every dependency, the codegen drift check (the generated resolvers are committed), the TypeScript build and
# GraphiQL's static assets (bundled from the dev dependencies into dist/graphiql-assets/, so the runtime needs
# neither them nor the internet). `prepare` is skipped at install, before the sources are here, and run after.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts --no-audit --no-fund && npm rebuild esbuild
COPY tsconfig.json tsconfig.build.json codegen.ts ./
COPY schema/ schema/
COPY src/ src/
COPY scripts/build-graphiql.ts scripts/
RUN npm run codegen:check && npm run build && npm run build:graphiql

# The runtime: compiled JS and GraphiQL's assets (both in dist/), production node_modules and schema/ (read at
# start from ../../schema/ relative to dist/graphql/schema.js, i.e. /app/schema). No tsx, no compiler, no dev
# dependencies.
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1: forwards SIGTERM to node (which drains and exits) and reaps zombies.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
# V8's heap, sized for the gateway rather than from the host's memory (on a large host V8 lets the heap grow
# lazily, so RSS climbs far above what is live; see docs/deployment.md#memory): old space 320 MiB =
# CACHE_MAX_MB's default 128 for the caches + about 50 live at rest + room for large answers in flight;
# semi-spaces of 16 MiB (V8 takes up to 64): smaller ones promote the objects of requests in flight and halve
# the execution path's throughput at 50 connections (npm run bench). NODE_OPTIONS rather than CMD flags, so that
# they hold whatever command runs the image (Compose's simulator, a Kubernetes `command`), and
# `-e NODE_OPTIONS=…` resizes them without restating the command. The bench starts its server children with
# them (bench/deployed.ts reads them here).
ENV NODE_ENV=production \
  NODE_OPTIONS="--max-old-space-size=320 --max-semi-space-size=16"
WORKDIR /app
# Owned by root and read-only to the `node` user the process runs as.
COPY package.json ./
COPY --from=deps /app/node_modules/ node_modules/
COPY --from=build /app/dist/ dist/
COPY schema/ schema/
USER node
EXPOSE 4000
# Liveness through Node itself (slim images have no curl); follows PORT when it is overridden.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--enable-source-maps", "dist/index.js"]
