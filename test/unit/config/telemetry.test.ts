import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.js';

describe('telemetry configuration (loadConfig)', () => {
  const telemetry = (env: NodeJS.ProcessEnv) => loadConfig(env).telemetry;
  const configError = (env: NodeJS.ProcessEnv): string => {
    try {
      loadConfig(env);
    } catch (error) {
      if (error instanceof ConfigError) return error.message;
      throw error;
    }
    throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
  };

  it('is off by default, as service defender-graph, sampling as the inbound trace decided', () => {
    expect(telemetry({})).toEqual({
      serviceName: 'defender-graph',
      headers: {},
      sampler: 'parentbased_always_on',
      samplerRatio: 1,
    });
  });

  it('sends to OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces, or to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given', () => {
    expect(telemetry({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracesUrl?.href).toBe(
      'http://collector:4318/v1/traces',
    );
    expect(telemetry({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example/base/' }).tracesUrl?.href).toBe(
      'https://otel.example/base/v1/traces',
    );
    expect(
      telemetry({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:9999/custom',
      }).tracesUrl?.href,
    ).toBe('http://traces:9999/custom');
  });

  it('stays off with OTEL_SDK_DISABLED=true, whatever the endpoint', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' };
    expect(telemetry(env).tracesUrl).toBeUndefined();
  });

  it('reads the service name, the sampler and its ratio, and the export headers (signal-specific first)', () => {
    expect(
      telemetry({
        OTEL_SERVICE_NAME: 'graph-eu',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
        OTEL_EXPORTER_OTLP_HEADERS: 'api-key=general,x-tenant=a%20b',
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'api-key=traces',
      }),
    ).toEqual({
      serviceName: 'graph-eu',
      sampler: 'parentbased_traceidratio',
      samplerRatio: 0.25,
      headers: { 'api-key': 'traces', 'x-tenant': 'a b' },
    });
  });

  it('refuses bad values naming the variable, never echoing an endpoint or a header value', () => {
    expect(configError({ OTEL_TRACES_SAMPLER: 'sometimes' })).toMatch(
      /^OTEL_TRACES_SAMPLER: expected one of/,
    );
    expect(configError({ OTEL_TRACES_SAMPLER_ARG: '2' })).toMatch(/^OTEL_TRACES_SAMPLER_ARG: /);
    expect(configError({ OTEL_TRACES_SAMPLER_ARG: 'half' })).toMatch(/^OTEL_TRACES_SAMPLER_ARG: /);
    expect(configError({ OTEL_SDK_DISABLED: 'yes' })).toMatch(/^OTEL_SDK_DISABLED: /);
    const url = configError({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector secret-9f2c' });
    expect(url).toMatch(/^OTEL_EXPORTER_OTLP_ENDPOINT: not a URL/);
    expect(url).not.toContain('secret-9f2c');
    expect(configError({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://collector' })).toMatch(
      /^OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: expected an http/,
    );
    const header = configError({ OTEL_EXPORTER_OTLP_HEADERS: 'secret-9f2c' });
    expect(header).toMatch(/^OTEL_EXPORTER_OTLP_HEADERS: expected key=value/);
    expect(header).not.toContain('secret-9f2c');
  });
});
