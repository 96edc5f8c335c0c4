import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { DeviceList, DeviceView, ProvisionDeviceResponse } from '@ddnn/contracts';
import { RequireAccess } from '../auth/access.decorator';
import { type ProbeResult, DeviceProbe } from './device-probe';
import { DeviceDto, DeviceListDto, DeviceListQueryDto, ProbeDeviceDto, ProbeResultDto, ProvisionDeviceDto, ProvisionedDto, UpdateDeviceDto } from './device.dto';
import { DevicesService } from './devices.service';
import { DeviceTransportService } from './transport/device-transport.service';

@ApiTags('devices')
@Controller('devices')
export class DevicesController {
  constructor(
    private readonly devices: DevicesService,
    private readonly transport: DeviceTransportService,
    private readonly prober: DeviceProbe,
  ) {}

  @Post(':id/probe')
  @HttpCode(200)
  @RequireAccess('operator')
  @ApiOkResponse({ type: ProbeResultDto, description: 'One sample through the scores and features stages of a connected device.' })
  async probe(@Param('id') id: string, @Body() body: ProbeDeviceDto): Promise<ProbeResult> {
    await this.devices.find(id);
    return this.prober.probe(id, body.dataset, body.sampleId, body.timeoutMs ?? 5000);
  }

  @Post('provision')
  @ApiCreatedResponse({ type: ProvisionedDto, description: 'The device token is shown once.' })
  @ApiUnauthorizedResponse({ description: 'Unknown provisioning key.' })
  provision(@Body() body: ProvisionDeviceDto): Promise<ProvisionDeviceResponse> {
    return this.devices.provision(body);
  }

  @Get()
  @RequireAccess('operator')
  @ApiOkResponse({ type: DeviceListDto })
  list(@Query() q: DeviceListQueryDto): Promise<DeviceList> {
    return this.devices.list(q);
  }

  @Get(':id')
  @RequireAccess('operator-or-self')
  @ApiOkResponse({ type: DeviceDto })
  @ApiNotFoundResponse()
  get(@Param('id') id: string): Promise<DeviceView> {
    return this.devices.get(id);
  }

  @Patch(':id')
  @RequireAccess('operator')
  @ApiOkResponse({ type: DeviceDto, description: 'adminState, role and view as the operator sets them.' })
  @ApiNotFoundResponse()
  async update(@Param('id') id: string, @Body() body: UpdateDeviceDto): Promise<DeviceView> {
    const view = await this.devices.update(id, body);
    if (view.adminState === 'locked') this.transport.disconnect(id, 'this device is locked by an operator');
    return view;
  }

  @Post(':id/rotate-token')
  @RequireAccess('operator-or-self')
  @ApiCreatedResponse({ type: ProvisionedDto, description: 'A new token, shown once; the old one stops working.' })
  @ApiNotFoundResponse()
  async rotate(@Param('id') id: string): Promise<ProvisionDeviceResponse> {
    const rotated = await this.devices.rotateToken(id);
    // A socket authenticated with the old token must not outlive it.
    this.transport.disconnect(id, 'the device token was rotated');
    return rotated;
  }

  @Post(':id/revoke-token')
  @HttpCode(200)
  @RequireAccess('operator')
  @ApiOkResponse({ type: DeviceDto, description: 'The device has no token any more (hasToken false).' })
  @ApiNotFoundResponse()
  async revoke(@Param('id') id: string): Promise<DeviceView> {
    const view = await this.devices.revokeToken(id);
    this.transport.disconnect(id, 'the device token was revoked');
    return view;
  }
}
