import { collectDefaultMetrics, Registry } from 'prom-client';

let processRegistry: Registry | null = null;

/**
 * Node's own metrics (CPU, memory, event loop, GC), prefixed `drydock_`: the
 * process's, not an app's, so collected once per process however many apps
 * it builds (tests build several; prom-client refuses a second collection).
 */
export function processMetrics(): Registry {
  if (processRegistry === null) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: 'drydock_' });
  }
  return processRegistry;
}
