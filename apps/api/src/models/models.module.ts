import { Module } from '@nestjs/common';
import { MulterModule } from '@nestjs/platform-express';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { DevicesModule } from '../devices/devices.module';
import { ModelDeployer } from './model-deployer';
import { ModelEntity } from './model.entity';
import { ModelsController } from './models.controller';
import { ModelsService } from './models.service';
import { RunsInUseRepository } from './runs-in-use.repository';
import { PrivateDiskStorage, uploadTempDir } from './upload-storage';

@Module({
  imports: [
    TypeOrmModule.forFeature([ModelEntity]),
    DevicesModule,
    // Uploads stream to a private folder on disk, at most DDNN_UPLOAD_MAX_BYTES, one file and a few short fields.
    MulterModule.registerAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        storage: new PrivateDiskStorage(uploadTempDir(config.DDNN_DATA_DIR)),
        limits: { fileSize: config.DDNN_UPLOAD_MAX_BYTES, files: 1, fields: 8, fieldSize: 1024, parts: 10, headerPairs: 50 },
      }),
    }),
  ],
  controllers: [ModelsController],
  providers: [ModelsService, ModelDeployer, RunsInUseRepository],
  exports: [ModelsService, ModelDeployer, RunsInUseRepository],
})
export class ModelsModule {}
