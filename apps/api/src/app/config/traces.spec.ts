import { loadConfig } from './config';
import { tracesConfigOf } from './traces';

describe('tracesConfigOf', () => {
  it('is off when no OTEL variable names an exporter or an endpoint, so the SDK never exports to a default address', () => {
    expect(tracesConfigOf({})).toEqual({ enabled: false, serviceName: 'drydock-api', exporters: [] });
    expect(tracesConfigOf({ OTEL_SERVICE_NAME: 'builds', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).enabled).toBe(false);
    expect(loadConfig({}).traces.enabled).toBe(false);
  });

  it('is on when an OTLP endpoint or an exporter is named, as the role names the service unless OTEL_SERVICE_NAME does', () => {
    expect(tracesConfigOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual({ enabled: true, serviceName: 'drydock-api', exporters: ['otlp'] });
    expect(tracesConfigOf({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector/v1/traces', DRYDOCK_ROLE: 'worker' })).toMatchObject({ enabled: true, serviceName: 'drydock-worker' });
    expect(tracesConfigOf({ OTEL_TRACES_EXPORTER: 'console, OTLP', OTEL_SERVICE_NAME: 'builds-eu' })).toEqual({ enabled: true, serviceName: 'builds-eu', exporters: ['console', 'otlp'] });
  });

  it('stays off when OTEL_SDK_DISABLED is true or the exporter is none, whatever else is set', () => {
    expect(tracesConfigOf({ OTEL_SDK_DISABLED: 'TRUE', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).enabled).toBe(false);
    expect(tracesConfigOf({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).enabled).toBe(false);
    expect(tracesConfigOf({ OTEL_SDK_DISABLED: 'false', OTEL_TRACES_EXPORTER: 'otlp' }).enabled).toBe(true);
  });

  it.each([
    [{ OTEL_SDK_DISABLED: 'yes' }, 'OTEL_SDK_DISABLED=yes: expected true or false'],
    [{ OTEL_TRACES_EXPORTER: 'jaeger' }, 'OTEL_TRACES_EXPORTER: "jaeger" is not one of otlp, console, zipkin, none'],
    [{ OTEL_TRACES_EXPORTER: 'none,console' }, '"none" cannot be combined'],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http' }, 'OTEL_EXPORTER_OTLP_PROTOCOL=http: expected one of grpc, http/protobuf, http/json'],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://collector' }, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: expected an http:// or https:// URL'],
    [{ OTEL_SERVICE_NAME: 'x'.repeat(256) }, 'OTEL_SERVICE_NAME: longer than 255 characters'],
  ])('refuses at boot what the SDK would only warn about and ignore: %j', (env, message) => {
    expect(() => tracesConfigOf(env)).toThrow(message);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('never repeats an endpoint in its error: it may carry credentials', () => {
    expect(() => tracesConfigOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url with s3cret' })).toThrow('OTEL_EXPORTER_OTLP_ENDPOINT: not a URL');
    expect(() => tracesConfigOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url with s3cret' })).not.toThrow(/s3cret/);
  });
});
