import { tuneGarbageCollection } from './gc-tuning';
import { startTracing } from './app/telemetry/tracing';

async function main(): Promise<void> {
  tuneGarbageCollection();
  // First, and the application's modules only after it: instrumentations patch http, fastify, graphql and ioredis as they load.
  const traces = await startTracing();
  const { Logger } = await import('@nestjs/common');
  const { loadConfig } = await import('./app/config/config');
  const { createApp } = await import('./app/bootstrap');
  const { JobWorkerHost } = await import('./app/jobs/job-worker.host');
  const config = loadConfig();
  const app = await createApp(config);
  await app.listen(config.port, config.host);
  const logger = new Logger('Drydock');
  logger.log(`listening on ${await app.getUrl()} (role ${config.role})`);
  logger.log(traces.enabled ? `traces exported (${traces.exporters.join(', ')}) as ${traces.serviceName}` : 'traces off');
  if (config.role !== 'worker') return;
  // Tests wait for this line: jobs are taken from here on. (`all` does not wait: it serves requests even with Redis away.)
  await app.get(JobWorkerHost).whenReady();
  logger.log('worker ready');
}

main().catch((error: unknown) => {
  // Before the logger exists (bad configuration), say it plainly and stop.
  process.stderr.write(`drydock failed to start: ${(error as Error).message}\n`);
  process.exit(1);
});
