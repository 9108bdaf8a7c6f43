import { createApp } from './app/bootstrap';
import { loadConfig } from './app/config/config';

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config);
  await app.listen(config.port, config.host);
}

main().catch((error: unknown) => {
  // Before the logger exists (bad configuration), say it plainly and stop.
  process.stderr.write(`drydock failed to start: ${(error as Error).message}\n`);
  process.exit(1);
});
