import { readSimulatorEnv } from './config.js';
import { startSimulator } from './server.js';

/** `npm run simulator`: the Defender simulator alone, configured by environment. */
let config;
try {
  config = readSimulatorEnv();
} catch (error) {
  console.error(`simulator: bad configuration: ${(error as Error).message}`);
  process.exit(2);
}
const simulator = await startSimulator(config.options, { port: config.port, host: config.host });
const { machines, users, alerts } = simulator.tenant;
console.log(
  `Defender simulator on ${simulator.url}/api (seed ${config.options.seed}: ${machines.length} machines, ` +
    `${users.length} users, ${alerts.length} alerts)`,
);
if (config.options.alertChangesPerMinute) {
  console.log(`Alerts change in the background: ${config.options.alertChangesPerMinute} a minute`);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void simulator.close().then(() => process.exit(0)));
}
