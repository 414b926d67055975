import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config.js';
import type { Config } from '../../src/config.js';
import { shutdownDeadlineMs } from '../../src/ops/shutdown.js';
import { readSimulatorEnv } from '../../src/simulator/config.js';
import { variablesInConfigSources } from '../helpers/config-sources.js';

/**
 * Images cannot be built here, so the deployment files are held to the contract by reading them: ports,
 * probes, replicas, labels, how the services reach each other, and every environment variable they set is one
 * the code reads, with a value that the code accepts.
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const deployDir = join(root, 'deploy');
const k8sDir = join(deployDir, 'k8s');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed YAML, checked by the assertions
type Doc = any;

/** Compose applies YAML merge keys (`<<: *gateway`), so the test reads them as Compose does. */
function readYaml(path: string): Doc {
  return parse(readFileSync(path, 'utf8'), { merge: true });
}

function k8sDocs(): Doc[] {
  return readdirSync(k8sDir)
    .filter((name) => /\.ya?ml$/.test(name) && name !== 'kustomization.yaml')
    .flatMap((name) =>
      parseAllDocuments(readFileSync(join(k8sDir, name), 'utf8')).map((doc) => {
        expect(doc.errors, name).toEqual([]);
        return doc.toJS() as Doc;
      }),
    )
    .filter((doc) => doc != null);
}

function k8sKind(kind: string): Doc {
  const found = k8sDocs().filter((doc) => doc.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0];
}

function k8sResource(kind: string, name: string): Doc {
  const found = k8sDocs().filter((doc) => doc.kind === kind && doc.metadata?.name === name);
  expect(found, `${kind} ${name}`).toHaveLength(1);
  return found[0];
}

/** Compose's `environment`, as a map or as a `NAME=value` list. */
function composeEnv(service: Doc): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry: string) => {
        const at = entry.indexOf('=');
        return [entry.slice(0, at), entry.slice(at + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
}

/** Compose's published ports, in the short `host:container` syntax the file uses (no ranges, no host IP). */
function publishedPorts(service: Doc): { host: number; container: number }[] {
  return ((service.ports ?? []) as unknown[]).map((entry) => {
    const match = /^(\d+):(\d+)$/.exec(String(entry));
    expect(match, `port "${String(entry)}" as host:container`).not.toBeNull();
    return { host: Number(match![1]), container: Number(match![2]) };
  });
}

/** A probe's or a Service's named or numbered port, resolved against the container's ports. */
function containerPort(container: Doc, port: string | number): number {
  if (typeof port === 'number') return port;
  const named = (container.ports as Doc[]).find((p) => p.name === port);
  expect(named, `container port named ${port}`).toBeDefined();
  return named.containerPort;
}

/** Whether a label selector's `matchLabels` (or a Service's selector) selects pods with these labels. */
function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

/** Defender's own limits: what the code uses when DEFENDER_RATE_LIMITS is unset. */
const defenderRateLimits = loadConfig({}).rateLimits;

describe('the variables the code reads', () => {
  it('are found in src/config.ts, src/config/ and src/simulator/config.ts', () => {
    const names = variablesInConfigSources();
    for (const name of [
      'PORT',
      'DEFENDER_API_URL',
      'DEFENDER_TOKEN',
      'DEFENDER_RATE_LIMITS',
      'AZURE_CLIENT_SECRET',
      'AUTH_MODE',
      'AUTH_ISSUER',
      'AUTH_JWKS_URI',
      'CACHE_URL',
      'GATEWAY_REPLICAS',
      'GRAPHQL_INTROSPECTION',
      'ROUTER_SECRET',
      'NODE_ENV',
      'HOST',
      'HTTP_REQUEST_TIMEOUT_MS',
      'HTTP_MAX_CONNECTIONS',
      'MAX_INFLIGHT_OPERATIONS',
      'SHUTDOWN_READINESS_DELAY_MS',
      'SIMULATOR_PORT',
      'SIMULATOR_HOST',
      'SIMULATOR_SEED',
      'SIMULATOR_TOKEN',
    ]) {
      expect(names, name).toContain(name);
    }
  });
});

describe('deploy/compose.yaml', () => {
  const compose = readYaml(join(deployDir, 'compose.yaml'));
  const services = compose.services as Record<string, Doc>;
  const gateways = Object.entries(services).filter(([name]) => name.startsWith('gateway'));
  const simulator = services['simulator'];
  const redis = services['redis'];

  /** A gateway's configuration as the code reads it, under the image's NODE_ENV. */
  const gatewayConfig = (gateway: Doc): Config =>
    loadConfig({ NODE_ENV: 'production', ...composeEnv(gateway) });
  const simulatorConfig = () => readSimulatorEnv(composeEnv(simulator));

  it('has three gateway services, one replica each, the simulator and Redis', () => {
    expect(Object.keys(services).sort()).toEqual([
      'gateway-1',
      'gateway-2',
      'gateway-3',
      'redis',
      'simulator',
    ]);
    for (const [name, gateway] of gateways) expect(gateway.deploy?.replicas ?? 1, name).toBe(1);
    expect(redis.image).toMatch(/^redis:7-alpine$/);
  });

  it("runs the gateways in the simulator's network namespace, on distinct PORTs that the simulator publishes", () => {
    const simulatorPort = simulatorConfig().port;
    const ports = gateways.map(([name, gateway]) => {
      expect(gateway.network_mode, name).toBe('service:simulator');
      // A service in another's network namespace cannot publish ports of its own.
      expect(gateway.ports, name).toBeUndefined();
      return gatewayConfig(gateway).port;
    });
    expect(new Set([...ports, simulatorPort]).size).toBe(gateways.length + 1);
    const published = publishedPorts(simulator);
    for (const port of [...ports, simulatorPort])
      expect(published).toContainEqual({ host: port, container: port });
  });

  it("checks each gateway's /healthz on its own PORT", () => {
    for (const [name, gateway] of gateways) {
      const { port } = gatewayConfig(gateway);
      expect(gateway.healthcheck.test.slice(0, 2), name).toEqual(['CMD', 'node']);
      expect((gateway.healthcheck.test as string[]).join(' '), name).toContain(
        `http://127.0.0.1:${port}/healthz`,
      );
    }
  });

  it('runs the compiled simulator, listening on all interfaces, throttling as Defender does', () => {
    expect(simulator.command.slice(-1)).toEqual(['dist/simulator/main.js']);
    expect(existsSync(join(root, 'src/simulator/main.ts'))).toBe(true);
    const config = simulatorConfig();
    expect(config.host).toBe('0.0.0.0');
    expect((simulator.healthcheck.test as string[]).join(' ')).toContain(`127.0.0.1:${config.port}/`);
    expect(config.options.rateLimits).toEqual(defenderRateLimits);
  });

  it("points every gateway at the simulator over loopback, with the simulator's token", () => {
    const { port, options } = simulatorConfig();
    for (const [name, gateway] of gateways) {
      const config = gatewayConfig(gateway);
      expect(config.defenderUrl?.protocol, name).toBe('http:');
      expect(config.defenderUrl?.hostname, name).toBe('127.0.0.1');
      expect(Number(config.defenderUrl?.port), name).toBe(port);
      expect(config.credentials, name).toEqual({ kind: 'static', token: options.tokens[0]!.token });
      // With DEFENDER_API_URL set, AUTH_MODE defaults to jwt: the demo must say none explicitly.
      expect(composeEnv(gateway)['AUTH_MODE'], name).toBe('none');
      expect(config.auth.mode, name).toBe('none');
      expect(config.introspection, name).toBe(true);
    }
  });

  it("shares the cache and the rate-limit budget through the redis service, with Defender's limits undivided", () => {
    for (const [name, gateway] of gateways) {
      const config = gatewayConfig(gateway);
      expect(config.cacheUrl, name).toBeDefined();
      const url = new URL(config.cacheUrl!);
      expect(url.protocol, name).toBe('redis:');
      expect(url.hostname, name).toBe('redis');
      // Redis's default port: the service sets no other.
      expect(Number(url.port || 6379), name).toBe(6379);
      expect(redis.command, name).not.toContain('--port');
      expect(config.replicas, name).toBe(gateways.length);
      expect(config.rateLimits, name).toEqual(defenderRateLimits);
    }
  });

  it('starts each gateway once the simulator and Redis are healthy', () => {
    expect(simulator.healthcheck.test).toBeDefined();
    expect(redis.healthcheck.test).toEqual(['CMD', 'redis-cli', 'ping']);
    for (const [name, gateway] of gateways) {
      expect(gateway.depends_on?.simulator?.condition, name).toBe('service_healthy');
      expect(gateway.depends_on?.redis?.condition, name).toBe('service_healthy');
    }
  });

  it('sets only variables the code reads', () => {
    const known = variablesInConfigSources();
    for (const service of [...gateways.map(([, gateway]) => gateway), simulator]) {
      for (const name of Object.keys(composeEnv(service))) expect(known, name).toContain(name);
    }
  });

  it('runs the gateways on a read-only root filesystem with time to drain', () => {
    for (const [name, gateway] of gateways) {
      expect(gateway.read_only, name).toBe(true);
      expect(gateway.tmpfs, name).toContain('/tmp');
      expect(gateway.stop_grace_period, name).toBe('30s');
      // Compose kills at stop_grace_period: the gateway's own deadline after SIGTERM comes first.
      const deadlineMs = shutdownDeadlineMs(gatewayConfig(gateway).shutdownReadinessDelayMs);
      expect(deadlineMs, name).toBeLessThan(30_000);
    }
  });

  it('sets HOST=0.0.0.0 on every gateway, which trusts every caller and would otherwise listen on loopback only', () => {
    for (const [name, gateway] of gateways) {
      expect(composeEnv(gateway)['HOST'], name).toBe('0.0.0.0');
      expect(gatewayConfig(gateway).host, name).toBe('0.0.0.0');
    }
  });

  it('builds the gateways and the simulator from the repository Dockerfile, which exposes 4000', () => {
    for (const service of [...gateways.map(([, gateway]) => gateway), simulator]) {
      expect(join(deployDir, service.build.context, service.build.dockerfile)).toBe(join(root, 'Dockerfile'));
    }
    expect(readFileSync(join(root, 'Dockerfile'), 'utf8')).toMatch(/^EXPOSE 4000$/m);
  });
});

describe('deploy/k8s', () => {
  const docs = k8sDocs();
  const deployment = docs.find((doc) => doc.kind === 'Deployment' && doc.metadata.name === 'defender-graph');
  const pod = deployment?.spec.template.spec;
  const container = pod?.containers[0];
  const redisDeployment = docs.find(
    (doc) => doc.kind === 'Deployment' && doc.metadata.name === 'defender-graph-redis',
  );
  const redisPod = redisDeployment?.spec.template.spec;
  const redisContainer = redisPod?.containers[0];
  const gatewayLabels = deployment?.spec.template.metadata.labels;
  const redisLabels = redisDeployment?.spec.template.metadata.labels;

  it('lists every manifest in kustomization.yaml', () => {
    const kustomization = readYaml(join(k8sDir, 'kustomization.yaml'));
    const files = readdirSync(k8sDir).filter((n) => n.endsWith('.yaml') && n !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    expect(files.sort()).toEqual(
      [
        'configmap.yaml',
        'deployment.yaml',
        'pdb.yaml',
        'redis.yaml',
        'secret.example.yaml',
        'service.yaml',
      ].sort(),
    );
  });

  it('runs three replicas of one container whose port 4000 is named http', () => {
    expect(deployment.spec.replicas).toBe(3);
    expect(pod.containers).toHaveLength(1);
    expect(containerPort(container, 'http')).toBe(4000);
    const env = Object.fromEntries((container.env ?? []).map((e: Doc) => [e.name, e.value]));
    expect(env['PORT'] ?? '4000').toBe('4000');
    expect(pod.terminationGracePeriodSeconds).toBe(30);
  });

  it('gives a stopping pod time for its preStop pause, the readiness delay and the drain before the kubelet kills it', () => {
    const preStop = container.lifecycle.preStop.exec.command as string[];
    expect(preStop.slice(0, 1)).toEqual(['sleep']);
    const preStopMs = Number(preStop[1]) * 1000;
    const deadlineMs = shutdownDeadlineMs(loadConfig(gatewayEnv()).shutdownReadinessDelayMs);
    expect(preStopMs + deadlineMs).toBeLessThan(pod.terminationGracePeriodSeconds * 1000);
  });

  it('never runs more pods than GATEWAY_REPLICAS, even during a rolling update', () => {
    // While Redis is unreachable each pod keeps 1/GATEWAY_REPLICAS of the budget: a surge pod would overspend.
    expect(deployment.spec.strategy.rollingUpdate.maxSurge).toBe(0);
    expect(Number(k8sKind('ConfigMap').data.GATEWAY_REPLICAS)).toBe(deployment.spec.replicas);
  });

  it('probes readiness on /readyz and liveness on /healthz, on the container port', () => {
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
      if (probe) expect(containerPort(container, probe.httpGet.port)).toBe(4000);
    }
  });

  it('has a Service on port 80 that targets the container port and selects the gateway pods only', () => {
    const service = k8sResource('Service', 'defender-graph');
    expect(service.spec.ports).toHaveLength(1);
    expect(service.spec.ports[0].port).toBe(80);
    expect(containerPort(container, service.spec.ports[0].targetPort)).toBe(4000);
    expect(selects(service.spec.selector, gatewayLabels)).toBe(true);
    expect(selects(service.spec.selector, redisLabels)).toBe(false);
    expect(selects(deployment.spec.selector.matchLabels, gatewayLabels)).toBe(true);
  });

  it('has a PodDisruptionBudget that selects the gateway pods only and keeps at least two of three', () => {
    const pdb = k8sKind('PodDisruptionBudget');
    expect(selects(pdb.spec.selector.matchLabels, gatewayLabels)).toBe(true);
    expect(selects(pdb.spec.selector.matchLabels, redisLabels)).toBe(false);
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    const kept =
      pdb.spec.minAvailable ?? deployment.spec.replicas - (pdb.spec.maxUnavailable as number | undefined)!;
    expect(kept).toBe(2);
  });

  it('runs as a non-root user on a read-only root filesystem', () => {
    for (const [p, c] of [
      [pod, container],
      [redisPod, redisContainer],
    ]) {
      expect(p.securityContext.runAsNonRoot).toBe(true);
      expect(Number.isInteger(p.securityContext.runAsUser) && p.securityContext.runAsUser > 0).toBe(true);
      expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
      expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
      expect(c.resources.requests).toBeDefined();
    }
  });

  it('runs one Redis without persistence, ready once it answers PING', () => {
    expect(redisDeployment.spec.replicas).toBe(1);
    expect(redisPod.containers).toHaveLength(1);
    expect(redisContainer.image).toMatch(/^redis:7-alpine$/);
    const args = [...(redisContainer.command ?? []), ...(redisContainer.args ?? [])] as string[];
    expect(args[0]).toBe('redis-server');
    expect(args[args.indexOf('--save') + 1]).toBe('');
    expect(args[args.indexOf('--appendonly') + 1]).toBe('no');
    expect(args).not.toContain('--port');
    expect(redisContainer.readinessProbe.exec.command).toEqual(['redis-cli', 'ping']);
    expect(selects(redisDeployment.spec.selector.matchLabels, redisLabels)).toBe(true);
    expect(selects(redisDeployment.spec.selector.matchLabels, gatewayLabels)).toBe(false);
  });

  it("keeps Redis's maxmemory under its container's memory limit", () => {
    const args = (redisContainer.args ?? []) as string[];
    const maxmemory = /^(\d+)mb$/.exec(args[args.indexOf('--maxmemory') + 1] ?? '');
    const limit = /^(\d+)Mi$/.exec(redisContainer.resources.limits.memory);
    expect(maxmemory, '--maxmemory in mb').not.toBeNull();
    expect(limit, 'memory limit in Mi').not.toBeNull();
    // Redis's "mb" and Kubernetes's "Mi" are both 2^20 bytes.
    expect(Number(maxmemory![1])).toBeLessThan(Number(limit![1]));
  });

  it("sizes V8's heap in the image for the caches' budget and fits it in the container's memory limit", () => {
    // docs/deployment.md#memory: the old space holds CACHE_MAX_MB, about 50 MiB live at rest and answers in
    // flight; the limit holds the old space, three semi-spaces, node's binary and its native memory.
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8').replaceAll('\\\n', ' ');
    const nodeOptions = /^ENV\s.*\bNODE_OPTIONS="([^"]*)"/m.exec(dockerfile)?.[1] ?? '';
    const flag = (name: string) => Number(new RegExp(`--${name}=(\\d+)\\b`).exec(nodeOptions)?.[1]);
    const oldSpaceMb = flag('max-old-space-size');
    const semiSpaceMb = flag('max-semi-space-size');
    expect(oldSpaceMb, `--max-old-space-size in NODE_OPTIONS "${nodeOptions}"`).toBeGreaterThan(0);
    expect(semiSpaceMb, `--max-semi-space-size in NODE_OPTIONS "${nodeOptions}"`).toBeGreaterThan(0);
    expect(oldSpaceMb).toBeGreaterThanOrEqual(loadConfig(gatewayEnv()).cacheMaxMb + 192);
    const limit = /^(\d+)Mi$/.exec(container.resources.limits.memory);
    expect(limit, 'memory limit in Mi').not.toBeNull();
    expect(Number(limit![1])).toBeGreaterThanOrEqual(oldSpaceMb + 3 * semiSpaceMb + 128);
  });

  it('has a Service defender-graph-redis on 6379 that selects the Redis pod only', () => {
    const service = k8sResource('Service', 'defender-graph-redis');
    expect(service.spec.ports).toHaveLength(1);
    expect(service.spec.ports[0].port).toBe(6379);
    expect(containerPort(redisContainer, service.spec.ports[0].targetPort)).toBe(6379);
    expect(selects(service.spec.selector, redisLabels)).toBe(true);
    expect(selects(service.spec.selector, gatewayLabels)).toBe(false);
  });

  it('lets only the gateway pods reach Redis', () => {
    const policy = k8sKind('NetworkPolicy');
    expect(selects(policy.spec.podSelector.matchLabels, redisLabels)).toBe(true);
    expect(selects(policy.spec.podSelector.matchLabels, gatewayLabels)).toBe(false);
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    expect(policy.spec.ingress).toHaveLength(1);
    const [rule] = policy.spec.ingress;
    expect(rule.from).toHaveLength(1);
    expect(selects(rule.from[0].podSelector.matchLabels, gatewayLabels)).toBe(true);
    expect(selects(rule.from[0].podSelector.matchLabels, redisLabels)).toBe(false);
    expect(rule.ports.map((p: Doc) => containerPort(redisContainer, p.port))).toEqual([6379]);
  });

  it('takes its configuration from the ConfigMap and the Secret, secrets from the Secret only', () => {
    const configMap = k8sKind('ConfigMap');
    const secret = k8sKind('Secret');
    const refs = (container.envFrom as Doc[]).map((e) => e.configMapRef?.name ?? e.secretRef?.name);
    expect(refs).toEqual([configMap.metadata.name, secret.metadata.name]);
    expect(Object.keys(secret.stringData).sort()).toEqual(['AZURE_CLIENT_SECRET', 'ROUTER_SECRET']);
    for (const value of Object.values(secret.stringData)) expect(value).toMatch(/^REPLACE_ME/);
    expect(configMap.data).not.toHaveProperty('AZURE_CLIENT_SECRET');
    expect(configMap.data).not.toHaveProperty('ROUTER_SECRET');
  });

  /** The gateway's environment: the image's NODE_ENV, the ConfigMap, the Secret and the container's own. */
  function gatewayEnv(): Record<string, string> {
    const literal = Object.fromEntries((container.env ?? []).map((e: Doc) => [e.name, String(e.value)]));
    return {
      NODE_ENV: 'production', // set by the image
      ...k8sKind('ConfigMap').data,
      ...k8sKind('Secret').stringData,
      ...literal,
    };
  }

  it('sets only variables the code reads, and the code accepts the values', () => {
    const env = gatewayEnv();
    const known = variablesInConfigSources();
    for (const name of Object.keys(env)) expect(known, name).toContain(name);
    for (const value of Object.values(env)) expect(typeof value).toBe('string');

    const config = loadConfig(env);
    expect(config.port).toBe(4000);
    expect(config.host).toBe('0.0.0.0');
    expect(config.defenderUrl?.protocol).toBe('https:');
    expect(config.credentials.kind).toBe('msal');
    expect(config.auth.mode).toBe('jwt');
    expect(config.routerSecret).toBe(k8sKind('Secret').stringData.ROUTER_SECRET);
  });

  it("shares the cache and Defender's undivided budget through the Redis Service, as many replicas as the Deployment's", () => {
    const config = loadConfig(gatewayEnv());
    const service = k8sResource('Service', 'defender-graph-redis');
    expect(config.cacheUrl).toBeDefined();
    const url = new URL(config.cacheUrl!);
    expect(url.protocol).toBe('redis:');
    // The Service's name, alone or qualified (name.namespace.svc…).
    expect(url.hostname.split('.')[0]).toBe(service.metadata.name);
    expect(Number(url.port || 6379)).toBe(service.spec.ports[0].port);
    expect(config.replicas).toBe(deployment.spec.replicas);
    expect(config.rateLimits).toEqual(defenderRateLimits);
  });
});
