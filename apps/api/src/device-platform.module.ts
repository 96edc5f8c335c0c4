import { Global, Module } from '@nestjs/common';
import { AuthModule } from './auth/auth.module';
import { ModelsModule } from './models/models.module';
import { ProfilesModule } from './profiles/profiles.module';
import { SimulationsModule } from './simulations/simulations.module';
import { DevicesModule } from './devices/devices.module';

/**
 * Operator auth, device profiles and registry, the /devices namespace, models and simulated devices, composed
 * here above their folders so that those folders import each other one way only (simulations -> devices).
 * Global: DeviceTransport, ModelsService and SimulationsService are injectable anywhere.
 */
@Global()
@Module({
  imports: [AuthModule, ProfilesModule, DevicesModule, ModelsModule, SimulationsModule],
  exports: [DevicesModule, ModelsModule, SimulationsModule],
})
export class DevicePlatformModule {}
