import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger as PinoLogger } from 'nestjs-pino';
import { AppModule } from './app/app.module';
import { createApp } from './app/bootstrap';
import { loadConfig, type AppConfig } from './app/config/config';
import { JobWorkerHost } from './app/jobs/job-worker.host';

/** The worker role: the same modules, no HTTP server; it runs jobs until SIGTERM. */
async function startWorker(config: AppConfig): Promise<void> {
  const context = await NestFactory.createApplicationContext(AppModule.forRoot(config), { bufferLogs: true });
  context.useLogger(context.get(PinoLogger));
  context.enableShutdownHooks();
  await context.get(JobWorkerHost).worker?.whenReady();
  new Logger('Drydock').log('worker ready');
}

async function main(): Promise<void> {
  const config = loadConfig();
  if (config.role === 'worker') return startWorker(config);
  const app = await createApp(config);
  await app.listen(config.port, config.host);
  new Logger('Drydock').log(`listening on http://${config.host}:${config.port} (role ${config.role})`);
}

main().catch((error: unknown) => {
  // Before the logger exists (bad configuration), say it plainly and stop.
  process.stderr.write(`drydock failed to start: ${(error as Error).message}\n`);
  process.exit(1);
});
