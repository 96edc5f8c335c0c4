import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './bootstrap';
import { ConfigError, loadConfig } from './config/config';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`ddnn: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const app = await createApp(config);
  await app.listen(config.PORT, config.HOST);
  const url = `http://${config.HOST}:${config.PORT}`;
  new Logger('ddnn').log(`ready at ${url}: dashboard ${url}/, REST ${url}/api, docs ${url}/api/docs`);
  // A person starting the platform reads this line, whatever the log format.
  process.stdout.write(`\n  ddnn is running at ${url}  (API ${url}/api, docs ${url}/api/docs; Ctrl-C stops it)\n\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`ddnn: start-up failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
