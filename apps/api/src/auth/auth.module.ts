import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DeviceEntity } from '../devices/device.entity';
import { AuthGuard } from './auth.guard';
import { CredentialsService } from './credentials.service';
import { OperatorCredentialEntity } from './operator-credential.entity';

/** Operator and device bearer tokens; RequireAccess() on a controller or route uses it. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([OperatorCredentialEntity, DeviceEntity])],
  providers: [CredentialsService, AuthGuard],
  exports: [CredentialsService, AuthGuard],
})
export class AuthModule {}
