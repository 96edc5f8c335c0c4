import { ConsoleLogger, type INestApplication, type LogLevel, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import type { AppConfig } from './config/config';
import { platformVersion } from './common/repo-root';

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
  const app = await NestFactory.create(AppModule.register(config), { logger: createLogger(config), abortOnError: false });
  app.setGlobalPrefix('api');
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
  );
  const openApi = new DocumentBuilder()
    .setTitle('ddnn')
    .setDescription(
      [
        'Distributed deep neural networks across end devices, the edge and the cloud.',
        '',
        '**Tokens.** Operators send `Authorization: Bearer <DDNN_ADMIN_TOKEN>` (the token `npm start` prints). A device gets its own',
        'opaque token from `POST /api/devices/provision` (body: `profileKey`, `name`, `role`, `view`), shown once and stored hashed;',
        'it may read its own row (`GET /api/devices/{id}`) and rotate its token with it.',
        '',
        '**Writing a device in another language.** After provisioning, connect a socket.io client to the namespace `/devices` with',
        '`auth: { token }`. Send `heartbeat` `{ at, modelId?, modelVersion?, problem? }` every few seconds (`problem` tells operators',
        'what keeps the device from serving). Answer `deploy` (a section of a checkpoint) and `infer` requests through the socket.io',
        'acknowledgement: `{ ok: true, ... }` or `{ ok: false, error }`. Message shapes: libs/contracts/src/socket/devices.ts.',
      ].join('\n'),
    )
    .setVersion(platformVersion())
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'opaque token',
      description: 'The operator token (DDNN_ADMIN_TOKEN) or a device token from POST /api/devices/provision. Opaque strings, not JWTs.',
    })
    .build();
  SwaggerModule.setup('api/docs', app, () => SwaggerModule.createDocument(app, openApi));
  return app;
}
