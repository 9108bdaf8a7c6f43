import { Logger } from '@nestjs/common';
import { createApp } from './app/bootstrap';
import { loadConfig } from './app/config/config';
import { JobWorkerHost } from './app/jobs/job-worker.host';

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config);
  await app.listen(config.port, config.host);
  const logger = new Logger('Drydock');
  logger.log(`listening on ${await app.getUrl()} (role ${config.role})`);
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
