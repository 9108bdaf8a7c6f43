import { DrydockError, ErrorCode } from '@drydock/core';

/**
 * What Drydock decides from the standard OTEL_* variables. The OpenTelemetry
 * SDK reads them itself (exporter, endpoint, headers, sampler, batching); a
 * value it would only warn about and then ignore fails the boot here instead.
 */
export interface TracesConfig {
  /** Traces are exported: an exporter or an OTLP endpoint is named and OTEL_SDK_DISABLED is not true. */
  enabled: boolean;
  /** OTEL_SERVICE_NAME, or `drydock-api` / `drydock-worker` by role (`all` is the API). */
  serviceName: string;
  /** The trace exporters the SDK sets up (OTEL_TRACES_EXPORTER; otlp when only an endpoint is named). */
  exporters: string[];
}

type Env = Record<string, string | undefined>;

const EXPORTERS = ['otlp', 'console', 'zipkin', 'none'];
const PROTOCOLS = ['grpc', 'http/protobuf', 'http/json'];

function fail(message: string): never {
  throw new DrydockError(ErrorCode.VALIDATION_FAILED, message);
}

function set(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** An endpoint URL; the value is not repeated in the error, since it may carry credentials. */
function checkEndpoint(env: Env, name: string): void {
  const raw = set(env, name);
  if (raw === undefined) return;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    fail(`${name}: not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(`${name}: expected an http:// or https:// URL`);
}

export function tracesConfigOf(env: Env): TracesConfig {
  const disabled = set(env, 'OTEL_SDK_DISABLED')?.toLowerCase();
  if (disabled !== undefined && disabled !== 'true' && disabled !== 'false') fail(`OTEL_SDK_DISABLED=${disabled}: expected true or false`);
  const listed = (set(env, 'OTEL_TRACES_EXPORTER') ?? '').split(',').map((name) => name.trim().toLowerCase()).filter(Boolean);
  for (const name of listed) if (!EXPORTERS.includes(name)) fail(`OTEL_TRACES_EXPORTER: "${name}" is not one of ${EXPORTERS.join(', ')}`);
  // The SDK would take `none,console` as the default otlp: say so rather than export somewhere unasked.
  if (listed.includes('none') && listed.length > 1) fail('OTEL_TRACES_EXPORTER: "none" cannot be combined with other exporters');
  for (const name of ['OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL']) {
    const protocol = set(env, name);
    if (protocol !== undefined && !PROTOCOLS.includes(protocol)) fail(`${name}=${protocol}: expected one of ${PROTOCOLS.join(', ')}`);
  }
  checkEndpoint(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  checkEndpoint(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const serviceName = set(env, 'OTEL_SERVICE_NAME') ?? (env['DRYDOCK_ROLE'] === 'worker' ? 'drydock-worker' : 'drydock-api');
  if (serviceName.length > 255) fail('OTEL_SERVICE_NAME: longer than 255 characters');

  // Off unless asked for: unset variables must not have the SDK export to a default localhost:4318.
  const endpoint = set(env, 'OTEL_EXPORTER_OTLP_ENDPOINT') ?? set(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const exporters = listed.length > 0 ? listed : endpoint !== undefined ? ['otlp'] : [];
  const enabled = disabled !== 'true' && exporters.length > 0 && exporters[0] !== 'none';
  return { enabled, serviceName, exporters: enabled ? exporters : [] };
}
