import { type INestApplication, Logger, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { createLogger, PinoNestLogger } from '@ddnn/logging';
import { AppModule } from './app.module';
import type { AppConfig } from './config/config';
import { nodeId } from './config/node-id';
import { platformVersion } from './common/repo-root';

/** The API's logger: the platform's pino configuration (@ddnn/logging) behind Nest's LoggerService; every line names the node. */
export function createPlatformLogger(config: AppConfig): PinoNestLogger {
  return new PinoNestLogger(createLogger({ name: 'api', level: config.LOG_LEVEL, format: config.LOG_FORMAT, base: { node: nodeId(config) } }));
}

/** Builds the whole platform application: REST under /api, OpenAPI at /api/docs, the dashboard at /. */
export async function createApp(config: AppConfig): Promise<INestApplication> {
  const logger = createPlatformLogger(config);
  // Before AppModule.register: modules that log while they are being registered use the same logger.
  Logger.overrideLogger(logger);
  const app = await NestFactory.create(AppModule.register(config), { logger, abortOnError: false });
  app.setGlobalPrefix('api');
  app.useGlobalPipes(
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
