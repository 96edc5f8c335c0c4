import path from 'node:path';
import { ConsoleLogger, type INestApplication, type LogLevel, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import type { AppConfig } from './config/config';
import { platformVersion, repoRoot } from './common/repo-root';
import { PlatformIoAdapter } from './devices/device-io-adapter';
import { MessageScrubber } from './errors/error-response';
import { PlatformExceptionFilter } from './errors/exception.filter';
import { inputLimitsMiddleware, type InputLimits, verifyJsonDepth } from './errors/input-limits';
import { InputLimitsPipe } from './errors/input-limits.pipe';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

// Nest's own start-up narration (a line per module and per route) buries what a person needs to read.
const FRAMEWORK_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'WebSocketsController']);

/** A ConsoleLogger that files the framework's start-up narration under debug. */
class PlatformLogger extends ConsoleLogger {
  override log(message: unknown, ...rest: unknown[]): void {
    const context = rest[rest.length - 1];
    if (typeof context === 'string' && FRAMEWORK_CONTEXTS.has(context)) super.debug(message, ...rest);
    else super.log(message, ...rest);
  }
}

/** Structured JSON logs by default (LOG_FORMAT=pretty for people at a terminal). */
export function createLogger(config: AppConfig): ConsoleLogger {
  const logLevels = LEVELS.slice(0, LEVELS.indexOf(config.LOG_LEVEL) + 1);
  return new PlatformLogger({ json: config.LOG_FORMAT === 'json', logLevels, prefix: 'ddnn' });
}

/** Builds the whole platform application: REST under /api, OpenAPI at /api/docs, the dashboard at /. */
export async function createApp(config: AppConfig): Promise<INestApplication> {
  // The body parsers are ours, so their limits are the configured ones and the depth check runs first.
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config), {
    logger: createLogger(config),
    abortOnError: false,
    bodyParser: false,
  });
  app.setGlobalPrefix('api');
  app.useWebSocketAdapter(new PlatformIoAdapter(app));
  const limits: InputLimits = {
    maxDepth: config.DDNN_JSON_MAX_DEPTH,
    maxStringLength: config.DDNN_STRING_MAX_LENGTH,
    maxArrayLength: config.DDNN_ARRAY_MAX_LENGTH,
  };
  const jsonOptions = { limit: config.DDNN_BODY_MAX_BYTES, verify: verifyJsonDepth(limits.maxDepth) };
  app.useBodyParser('json', jsonOptions);
  app.useBodyParser('urlencoded', { limit: config.DDNN_BODY_MAX_BYTES, extended: false });
  app.use(inputLimitsMiddleware(limits));
  app.useGlobalFilters(new PlatformExceptionFilter(new MessageScrubber({ [path.resolve(config.DDNN_DATA_DIR)]: '<data>', [repoRoot()]: '<repo>' })));
  app.useGlobalPipes(
    new InputLimitsPipe(limits),
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
  );
  const openApi = new DocumentBuilder()
    .setTitle('ddnn')
    .setDescription('Distributed deep neural networks across end devices, the edge and the cloud')
    .setVersion(platformVersion())
    .addBearerAuth()
    .build();
  SwaggerModule.setup('api/docs', app, () => SwaggerModule.createDocument(app, openApi));
  return app;
}
