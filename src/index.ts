import { ConfigError, loadConfig } from './config.js';
import type { Config } from './config.js';
import { createDependencies } from './dependencies.js';
import { SHUTDOWN_GRACE_MS, shutdown, shutdownDeadlineMs } from './ops/shutdown.js';
import { createServer } from './server.js';

/** `npm start`: reads the configuration, builds the dependencies, listens, and shuts down on a signal. */
let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`defender-graph: bad configuration: ${error.message}`);
  process.exit(2);
}
const deps = await createDependencies(config);
const { limiter, logger } = deps;
const server = await createServer(deps.server);
await server.listen(config.port, config.host);
const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
logger.info(
  { host: config.host, port: config.port },
  `defender-graph: GraphQL on http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${config.port}/graphql`,
);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    // An orchestrator stops with SIGTERM and load balancers need the readiness delay; Ctrl-C is a person.
    const readinessDelayMs = signal === 'SIGTERM' ? config.shutdownReadinessDelayMs : 0;
    // Kubernetes kills at 30 s (after its 5 s preStop): whatever happens, the process is gone before.
    setTimeout(() => {
      logger.error('defender-graph: shutdown did not finish in time, exiting');
      process.exit(1);
    }, shutdownDeadlineMs(readinessDelayMs)).unref();
    void shutdown({ server, limiter, closeOthers: () => deps.close(), logger }, signal, {
      readinessDelayMs,
      gracePeriodMs: SHUTDOWN_GRACE_MS,
    }).then(() => process.exit(0));
  });
}
