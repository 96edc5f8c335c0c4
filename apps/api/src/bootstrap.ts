import path from 'node:path';
import { type INestApplication, Logger, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { createLogger, PinoNestLogger } from '@ddnn/logging';
import { AppModule } from './app.module';
import type { AppConfig } from './config/config';
import { nodeId } from './config/node-id';
import { platformVersion, repoRoot } from './common/repo-root';
import { PlatformIoAdapter } from './devices/device-io-adapter';
import { prometheusPathAlias } from './monitoring/prometheus/prometheus-path';
import { MessageScrubber } from './errors/error-response';
import { middlewareErrors, PlatformExceptionFilter } from './errors/exception.filter';
import { inputLimitsMiddleware, type InputLimits, verifyJsonDepth } from './errors/input-limits';
import { InputLimitsPipe } from './errors/input-limits.pipe';

/** The API's logger: the platform's pino configuration (@ddnn/logging) behind Nest's LoggerService; every line names the node. */
export function createPlatformLogger(config: AppConfig): PinoNestLogger {
  return new PinoNestLogger(createLogger({ name: 'api', level: config.LOG_LEVEL, format: config.LOG_FORMAT, base: { node: nodeId(config) } }));
}

/** Builds the whole platform application: REST under /api, OpenAPI at /api/docs, the dashboard at /. */
export async function createApp(config: AppConfig): Promise<INestApplication> {
  const logger = createPlatformLogger(config);
  // Before AppModule.register: modules that log while they are being registered use the same logger.
  Logger.overrideLogger(logger);
  // The body parsers are ours, so their limits are the configured ones and the depth check runs first.
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config), { logger, abortOnError: false, bodyParser: false });
  app.setGlobalPrefix('api');
  // GET /metrics stays where Prometheus looks by default.
  app.use(prometheusPathAlias);
  app.useWebSocketAdapter(new PlatformIoAdapter(app, config.DDNN_SOCKET_MAX_PER_ADDRESS));
  const limits: InputLimits = {
    maxDepth: config.DDNN_JSON_MAX_DEPTH,
    maxStringLength: config.DDNN_STRING_MAX_LENGTH,
    maxArrayLength: config.DDNN_ARRAY_MAX_LENGTH,
  };
  const jsonOptions = { limit: config.DDNN_BODY_MAX_BYTES, verify: verifyJsonDepth(limits.maxDepth) };
  app.useBodyParser('json', jsonOptions);
  app.useBodyParser('urlencoded', { limit: config.DDNN_BODY_MAX_BYTES, extended: false });
  app.use(inputLimitsMiddleware(limits));
  const filter = new PlatformExceptionFilter(new MessageScrubber({ [path.resolve(config.DDNN_DATA_DIR)]: '<data>', [repoRoot()]: '<repo>' }));
  app.use(middlewareErrors(filter));
  app.useGlobalFilters(filter);
  app.useGlobalPipes(
    new InputLimitsPipe(limits),
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
