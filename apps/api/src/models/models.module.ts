import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DevicesModule } from '../devices/devices.module';
import { ModelDeployer } from './model-deployer';
import { ModelEntity } from './model.entity';
import { ModelsController } from './models.controller';
import { ModelsService } from './models.service';

@Module({
  imports: [TypeOrmModule.forFeature([ModelEntity]), DevicesModule],
  controllers: [ModelsController],
  providers: [ModelsService, ModelDeployer],
  exports: [ModelsService, ModelDeployer],
})
export class ModelsModule {}
