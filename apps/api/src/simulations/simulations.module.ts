import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DeviceEntity } from '../devices/device.entity';
import { DevicesModule } from '../devices/devices.module';
import { ProfilesModule } from '../profiles/profiles.module';
import { SimulationsController } from './simulations.controller';
import { SimulationRecords } from './simulation-records';
import { SimulationsService } from './simulations.service';

@Module({
  imports: [TypeOrmModule.forFeature([DeviceEntity]), DevicesModule, ProfilesModule],
  controllers: [SimulationsController],
  providers: [SimulationsService, SimulationRecords],
  exports: [SimulationsService],
})
export class SimulationsModule {}
