import 'reflect-metadata';
import { Logger, type INestApplication } from '@nestjs/common';
import { createApp } from './bootstrap';
import { ConfigError, loadConfig, type AppConfig } from './config/config';
import { stopEmbeddedServers } from './database/embedded-postgres';

/** Longest a SIGINT/SIGTERM shutdown may take before the process exits anyway. */
const SHUTDOWN_LIMIT_MS = 8_000;

/** SIGINT/SIGTERM close the application in order (its shutdown hooks stop the embedded database last). */
function closeOnSignals(app: INestApplication): void {
  let closing = false;
  const logger = new Logger('ddnn');
  /** `cause`: a signal's name, or what else asked for the shutdown. */
  const shutdown = (cause: string) => {
    if (closing) {
      logger.warn(`${cause} again: exiting without waiting`);
      process.exit(1);
    }
    closing = true;
    logger.log(`${cause}: shutting down`);
    // Whatever a shutdown hook waits on (a device, the database), the process ends in bounded time: session
    // runs resume from the log on the next start.
    setTimeout(() => {
      logger.error(`shutdown took longer than ${SHUTDOWN_LIMIT_MS} ms: exiting`);
      setTimeout(() => process.exit(1), 1_000).unref();
      void stopEmbeddedServers().finally(() => process.exit(1));
    }, SHUTDOWN_LIMIT_MS).unref();
    app
      .close()
      .then(() => stopEmbeddedServers())
      .then(
      () => process.exit(0),
      (e: unknown) => {
        logger.error(`shutdown failed: ${e instanceof Error ? e.message : String(e)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  void launcherGone?.then(() => shutdown('the npm start launcher is gone'));
}

/**
 * Started by `npm start`'s launcher over an IPC channel, the platform watches it from the first moment: the channel
 * closes when the launcher dies (its process group killed, the terminal gone), and the platform then shuts down as on
 * SIGTERM rather than run on orphaned with its embedded database. Null when started without a launcher.
 */
const launcherGone: Promise<void> | null = process.channel
  ? new Promise<void>((resolve) => {
      process.channel?.unref();
      process.once('disconnect', () => resolve());
    })
  : null;

async function main(): Promise<void> {
  let config: AppConfig;
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
  closeOnSignals(app);
  // Idle keep-alive connections outlive the clients' and proxies' own idle timeouts (nginx and load balancers: 60 s):
  // with Node's 5 s default, a client reusing a connection as the server closed it got "other side closed" (seen in
  // the e2e suite under load). headersTimeout must stay above keepAliveTimeout.
  const server = app.getHttpServer() as { keepAliveTimeout: number; headersTimeout: number };
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await app.listen(config.PORT, config.HOST);
  const url = `http://${config.HOST}:${config.PORT}`;
  new Logger('ddnn').log(`ready at ${url}: dashboard ${url}/, REST ${url}/api, docs ${url}/api/docs`);
  // A person starting the platform reads this line, whatever the log format.
  process.stdout.write(`\n  ddnn is running at ${url}  (API ${url}/api, docs ${url}/api/docs; Ctrl-C stops it)\n\n`);
}

main().catch(async (e: unknown) => {
  process.stderr.write(`ddnn: start-up failed: ${e instanceof Error ? e.message : String(e)}\n`);
  await stopEmbeddedServers().catch(() => undefined);
  process.exit(1);
});
