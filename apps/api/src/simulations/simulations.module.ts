import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DeviceEntity } from '../devices/device.entity';
import { DevicesModule } from '../devices/devices.module';
import { ProfilesModule } from '../profiles/profiles.module';
import { SimulationsController } from './simulations.controller';
import { SimulationReconciler } from './simulation-reconciler';
import { SimulationRecords } from './simulation-records';
import { SimulationsService } from './simulations.service';

@Module({
  imports: [TypeOrmModule.forFeature([DeviceEntity]), DevicesModule, ProfilesModule],
  controllers: [SimulationsController],
  providers: [SimulationsService, SimulationReconciler, SimulationRecords],
  exports: [SimulationsService],
})
export class SimulationsModule {}
