import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { readSimulatorEnv } from '../../src/simulator/config.js';

/**
 * Images cannot be built here, so the deployment files are held to the contract by reading them: ports,
 * probes, replicas, labels, and every environment variable they set is one the code reads, with a value that
 * the code accepts.
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const deployDir = join(root, 'deploy');
const k8sDir = join(deployDir, 'k8s');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed YAML, checked by the assertions
type Doc = any;

function readYaml(path: string): Doc {
  return parse(readFileSync(path, 'utf8'));
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

/** The variables the code reads: every `read('X')`, `int('X'`, `bool('X'`, `required('X')` and `env['X']`. */
function variablesTheCodeReads(): Set<string> {
  const names = new Set<string>();
  for (const file of ['src/config.ts', 'src/simulator/config.ts']) {
    const source = readFileSync(join(root, file), 'utf8');
    for (const match of source.matchAll(
      /\b(?:read|int|bool|required)\(\s*'([A-Z][A-Z0-9_]*)'|\benv\[\s*'([A-Z][A-Z0-9_]*)'\s*\]/g,
    )) {
      names.add((match[1] ?? match[2])!);
    }
  }
  return names;
}

/** A probe's or a Service's named or numbered port, resolved against the container's ports. */
function containerPort(container: Doc, port: string | number): number {
  if (typeof port === 'number') return port;
  const named = (container.ports as Doc[]).find((p) => p.name === port);
  expect(named, `container port named ${port}`).toBeDefined();
  return named.containerPort;
}

describe('the variables the code reads', () => {
  it('are found in src/config.ts and src/simulator/config.ts', () => {
    const names = variablesTheCodeReads();
    for (const name of [
      'PORT',
      'DEFENDER_API_URL',
      'DEFENDER_RATE_LIMITS',
      'AZURE_CLIENT_SECRET',
      'AUTH_MODE',
      'AUTH_ISSUER',
      'AUTH_JWKS_URI',
      'ROUTER_SECRET',
      'NODE_ENV',
      'SIMULATOR_PORT',
      'SIMULATOR_HOST',
      'SIMULATOR_SEED',
    ]) {
      expect(names, name).toContain(name);
    }
  });
});

describe('deploy/compose.yaml', () => {
  const compose = readYaml(join(deployDir, 'compose.yaml'));
  const gateway = compose.services.gateway;
  const simulator = compose.services.simulator;

  it('has the gateway (three replicas), the simulator and Redis', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['gateway', 'redis', 'simulator']);
    expect(gateway.deploy.replicas).toBe(3);
    expect(compose.services.redis.image).toMatch(/^redis:7-alpine$/);
  });

  it('publishes the gateway on container port 4000 and checks /healthz on it', () => {
    const env = composeEnv(gateway);
    expect(env['PORT'] ?? '4000').toBe('4000');
    expect((gateway.ports as string[]).every((p) => String(p).endsWith(':4000'))).toBe(true);
    const check = (gateway.healthcheck.test as string[]).join(' ');
    expect(check).toContain('http://127.0.0.1:4000/healthz');
    expect(gateway.healthcheck.test[0]).toBe('CMD');
    expect(gateway.healthcheck.test[1]).toBe('node');
  });

  it('runs the compiled simulator, listening on all interfaces on the published port', () => {
    expect(simulator.command.slice(-1)).toEqual(['dist/simulator/main.js']);
    expect(existsSync(join(root, 'src/simulator/main.ts'))).toBe(true);
    const config = readSimulatorEnv(composeEnv(simulator));
    expect(config.host).toBe('0.0.0.0');
    expect(simulator.ports).toContain(`${config.port}:${config.port}`);
    expect((simulator.healthcheck.test as string[]).join(' ')).toContain(`127.0.0.1:${config.port}/`);
  });

  it('sets only variables the code reads, with values it accepts (no CACHE_URL: the manifests divide the limits per replica instead)', () => {
    const known = variablesTheCodeReads();
    for (const service of [gateway, simulator]) {
      for (const name of Object.keys(composeEnv(service))) expect(known, name).toContain(name);
    }
    const env = { NODE_ENV: 'production', ...composeEnv(gateway) };
    expect(env).not.toHaveProperty('CACHE_URL');
    const config = loadConfig(env);
    // http:// reaches loopback hosts only, so each replica runs the embedded simulator.
    expect(config.defenderUrl).toBeUndefined();
    expect(config.port).toBe(4000);
  });

  it('builds both services from the repository Dockerfile, which exposes 4000', () => {
    for (const service of [gateway, simulator]) {
      expect(join(deployDir, service.build.context, service.build.dockerfile)).toBe(join(root, 'Dockerfile'));
    }
    expect(readFileSync(join(root, 'Dockerfile'), 'utf8')).toMatch(/^EXPOSE 4000$/m);
  });
});

describe('deploy/k8s', () => {
  const deployment = k8sDocs().find((doc) => doc.kind === 'Deployment');
  const pod = deployment?.spec.template.spec;
  const container = pod?.containers[0];

  it('lists every manifest in kustomization.yaml', () => {
    const kustomization = readYaml(join(k8sDir, 'kustomization.yaml'));
    const files = readdirSync(k8sDir).filter((n) => n.endsWith('.yaml') && n !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    expect(files.sort()).toEqual(
      ['configmap.yaml', 'deployment.yaml', 'pdb.yaml', 'secret.example.yaml', 'service.yaml'].sort(),
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

  it('probes readiness on /readyz and liveness on /healthz, on the container port', () => {
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
      if (probe) expect(containerPort(container, probe.httpGet.port)).toBe(4000);
    }
  });

  it('has a Service on port 80 that targets the container port and selects the pods', () => {
    const service = k8sKind('Service');
    const labels = deployment.spec.template.metadata.labels;
    expect(service.spec.ports).toHaveLength(1);
    expect(service.spec.ports[0].port).toBe(80);
    expect(containerPort(container, service.spec.ports[0].targetPort)).toBe(4000);
    expect(labels).toMatchObject(service.spec.selector);
    expect(labels).toMatchObject(deployment.spec.selector.matchLabels);
  });

  it('has a PodDisruptionBudget that selects the pods and keeps at least two of three', () => {
    const pdb = k8sKind('PodDisruptionBudget');
    expect(deployment.spec.template.metadata.labels).toMatchObject(pdb.spec.selector.matchLabels);
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    const kept =
      pdb.spec.minAvailable ?? deployment.spec.replicas - (pdb.spec.maxUnavailable as number | undefined)!;
    expect(kept).toBe(2);
  });

  it('runs as a non-root user on a read-only root filesystem', () => {
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(Number.isInteger(pod.securityContext.runAsUser) && pod.securityContext.runAsUser > 0).toBe(true);
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
    expect(container.resources.requests).toBeDefined();
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

  it('sets only variables the code reads, and the code accepts the values (no CACHE_URL: the manifests divide the limits per replica instead)', () => {
    const configMap = k8sKind('ConfigMap');
    const secret = k8sKind('Secret');
    const literal = Object.fromEntries((container.env ?? []).map((e: Doc) => [e.name, String(e.value)]));
    const env: Record<string, string> = {
      NODE_ENV: 'production', // set by the image
      ...configMap.data,
      ...secret.stringData,
      ...literal,
    };
    const known = variablesTheCodeReads();
    for (const name of Object.keys(env)) expect(known, name).toContain(name);
    for (const value of Object.values(env)) expect(typeof value).toBe('string');
    expect(env).not.toHaveProperty('CACHE_URL');

    const config = loadConfig(env);
    expect(config.port).toBe(4000);
    expect(config.defenderUrl?.protocol).toBe('https:');
    expect(config.credentials.kind).toBe('msal');
    expect(config.auth.mode).toBe('jwt');
    expect(config.routerSecret).toBe(secret.stringData.ROUTER_SECRET);
    // Each replica has its own limiter: the per-replica budget is at most Defender's divided by the replicas.
    const defender = loadConfig({}).rateLimits;
    for (const [i, window] of config.rateLimits.entries()) {
      expect(window.limit * deployment.spec.replicas).toBeLessThanOrEqual(defender[i]!.limit);
    }
  });
});
