import type { EnvReader } from './env.js';

/** Which traces are recorded (`OTEL_TRACES_SAMPLER`, as the OpenTelemetry specification names them). */
export const TRACE_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

export type TraceSampler = (typeof TRACE_SAMPLERS)[number];

/**
 * OpenTelemetry traces, read from the standard `OTEL_*` variables. `tracesUrl` undefined: tracing is off, no
 * SDK is started and nothing is recorded.
 */
export interface TelemetryConfig {
  /**
   * Where spans are sent (OTLP over HTTP, JSON): `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as given, else
   * `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`. Undefined (neither set, or `OTEL_SDK_DISABLED=true`): off.
   */
  readonly tracesUrl?: URL;
  /** `OTEL_SERVICE_NAME`: the `service.name` of every span. Default `defender-graph`. */
  readonly serviceName: string;
  /**
   * `OTEL_EXPORTER_OTLP_TRACES_HEADERS` over `OTEL_EXPORTER_OTLP_HEADERS` (`key=value,…`, values
   * percent-decoded): sent with every export, e.g. a collector's API key. Never logged. Default none.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** `OTEL_TRACES_SAMPLER`. Default `parentbased_always_on`: an inbound `traceparent`'s decision is kept. */
  readonly sampler: TraceSampler;
  /** `OTEL_TRACES_SAMPLER_ARG`: the ratio of the `traceidratio` samplers, in [0, 1]. Default 1. */
  readonly samplerRatio: number;
}

export const DEFAULT_SERVICE_NAME = 'defender-graph';

/** The `OTEL_*` variables the gateway's tracing reads; a bad value stops start-up naming it. */
export function parseTelemetry(reader: EnvReader): TelemetryConfig {
  const { read, fail, bool } = reader;
  const sampler = read('OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on';
  if (!(TRACE_SAMPLERS as readonly string[]).includes(sampler))
    fail('OTEL_TRACES_SAMPLER', `expected one of ${TRACE_SAMPLERS.join(', ')}`);
  const rawRatio = read('OTEL_TRACES_SAMPLER_ARG');
  const samplerRatio = rawRatio === undefined ? 1 : Number(rawRatio);
  if (!(samplerRatio >= 0 && samplerRatio <= 1))
    fail('OTEL_TRACES_SAMPLER_ARG', `expected a ratio between 0 and 1, got "${rawRatio}"`);
  const headers = {
    ...parseHeaders(reader, 'OTEL_EXPORTER_OTLP_HEADERS'),
    ...parseHeaders(reader, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'),
  };
  const tracesUrl = parseTracesUrl(reader);
  const disabled = bool('OTEL_SDK_DISABLED', false);
  return {
    ...(tracesUrl && !disabled && { tracesUrl }),
    serviceName: read('OTEL_SERVICE_NAME') ?? DEFAULT_SERVICE_NAME,
    headers,
    sampler: sampler as TraceSampler,
    samplerRatio,
  };
}

/**
 * The signal-specific endpoint is used as given; the general one gets `/v1/traces` appended (the
 * specification's rule). Plain http:// is accepted anywhere: a collector beside the gateway rarely has TLS,
 * and no span carries a secret.
 */
function parseTracesUrl({ read, fail }: EnvReader): URL | undefined {
  const url = (name: string, raw: string): URL => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      // Never echoed: an endpoint may carry credentials.
      return fail(name, 'not a URL; expected http(s)://host:4318');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      fail(name, `expected an http:// or https:// URL, got a ${parsed.protocol}// one`);
    return parsed;
  };
  const traces = read('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  if (traces !== undefined) return url('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', traces);
  const base = read('OTEL_EXPORTER_OTLP_ENDPOINT');
  if (base === undefined) return undefined;
  const parsed = url('OTEL_EXPORTER_OTLP_ENDPOINT', base);
  parsed.pathname = `${parsed.pathname.replace(/\/+$/, '')}/v1/traces`;
  return parsed;
}

/** `key=value,key2=value2`, values percent-decoded (the W3C baggage form the specification uses). */
function parseHeaders({ read, fail }: EnvReader, name: string): Record<string, string> {
  const raw = read(name);
  if (raw === undefined) return {};
  const headers: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    if (pair.trim() === '') continue;
    const at = pair.indexOf('=');
    const key = pair.slice(0, at).trim();
    // The value is never echoed: it is usually a secret.
    if (at < 1 || !/^[!#$%&'*+.^_`|~0-9a-z-]+$/i.test(key))
      fail(name, 'expected key=value pairs separated by commas');
    try {
      headers[key] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      fail(name, `the value of ${key} is not percent-encoded correctly`);
    }
  }
  return headers;
}
