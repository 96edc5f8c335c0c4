import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ProfilesModule } from '../profiles/profiles.module';
import { DeviceEntity } from './device.entity';
import { DeviceEventLog } from './device-event-log';
import { DeviceProbe } from './device-probe';
import { DevicesController } from './devices.controller';
import { DevicesGateway } from './devices.gateway';
import { DevicesRepository } from './devices.repository';
import { DevicesService } from './devices.service';
import { MalformedMessages } from './malformed-messages';
import { NODE_ID, nodeId } from '../config/node-id';
import { DeviceTransport } from './transport/device-transport';
import { DeviceTransportService } from './transport/device-transport.service';

/** Device registry (REST), the /devices socket namespace, and DeviceTransport for the session engine. */
@Module({
  imports: [TypeOrmModule.forFeature([DeviceEntity]), ProfilesModule],
  controllers: [DevicesController],
  providers: [
    { provide: NODE_ID, inject: [APP_CONFIG], useFactory: (c: AppConfig) => nodeId(c) },
    DeviceEventLog,
    { provide: MalformedMessages, useFactory: () => new MalformedMessages() },
    DevicesRepository,
    DevicesService,
    DeviceTransportService,
    { provide: DeviceTransport, useExisting: DeviceTransportService },
    DevicesGateway,
    DeviceProbe,
  ],
  exports: [DeviceTransport, DeviceTransportService, DevicesService, DeviceEventLog, MalformedMessages, NODE_ID],
})
export class DevicesModule {}
