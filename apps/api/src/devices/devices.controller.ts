import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { DeviceHistoryEntry, DeviceList, DeviceView, ProvisionDeviceResponse } from '@ddnn/contracts';
import { RequireAccess } from '../auth/access.decorator';
import { type ProbeResult, DeviceProbe } from './device-probe';
import { DeviceDto, DeviceHistoryDto, DeviceListDto, DeviceListQueryDto, ProbeDeviceDto, ProbeResultDto, ProvisionDeviceDto, ProvisionedDto, UpdateDeviceDto } from './device.dto';
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
  @ApiOperation({ summary: 'Probe a connected device', description: 'Runs one sample of a dataset through the device\'s scores and features stages and returns what it answered (a health check before a session).' })
  @HttpCode(200)
  @RequireAccess('operator')
  @ApiOkResponse({ type: ProbeResultDto, description: 'One sample through the scores and features stages of a connected device.' })
  async probe(@Param('id') id: string, @Body() body: ProbeDeviceDto): Promise<ProbeResult> {
    await this.devices.find(id);
    return this.prober.probe(id, body.dataset, body.sampleId, body.timeoutMs ?? 5000);
  }

  @Post('provision')
  @ApiOperation({ summary: 'Provision a device', description: 'A device presents its profile\'s provisioning key (body `profileKey`, no Authorization header) and gets its own device token, shown once. It then connects to the socket.io namespace /devices with `auth: { token }`.' })
  @ApiCreatedResponse({ type: ProvisionedDto, description: 'The device token is shown once.' })
  @ApiUnauthorizedResponse({ description: 'Unknown provisioning key.' })
  provision(@Body() body: ProvisionDeviceDto): Promise<ProvisionDeviceResponse> {
    return this.devices.provision(body);
  }

  @Get()
  @ApiOperation({ summary: 'List devices', description: 'Registered devices, newest first, filtered by role, admin state, connectivity, simulated, tag or name substring.' })
  @RequireAccess('operator')
  @ApiOkResponse({ type: DeviceListDto })
  list(@Query() q: DeviceListQueryDto): Promise<DeviceList> {
    return this.devices.list(q);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a device', description: 'Identity, role, view, admin state, connectivity, deployed section, tags and the last problem its agent reported. A device may read its own row with its device token.' })
  @RequireAccess('operator-or-self')
  @ApiOkResponse({ type: DeviceDto })
  @ApiNotFoundResponse()
  get(@Param('id') id: string): Promise<DeviceView> {
    return this.devices.get(id);
  }

  @Get(':id/history')
  @RequireAccess('operator')
  @ApiOperation({ summary: 'Device history', description: 'The latest 50 events of the device (registration, connects, disconnects, inactivity, deployments), newest first. Kept after the device is deleted.' })
  @ApiOkResponse({ type: [DeviceHistoryDto] })
  history(@Param('id', new ParseUUIDPipe()) id: string): Promise<DeviceHistoryEntry[]> {
    return this.devices.history(id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Update a device', description: 'Lock or unlock it (a locked device is disconnected), change its role, view, name or tags.' })
  @RequireAccess('operator')
  @ApiOkResponse({ type: DeviceDto, description: 'adminState, role and view as the operator sets them.' })
  @ApiNotFoundResponse()
  async update(@Param('id') id: string, @Body() body: UpdateDeviceDto): Promise<DeviceView> {
    const view = await this.devices.update(id, body);
    if (view.adminState === 'locked') this.transport.disconnect(id, 'this device is locked by an operator');
    return view;
  }

  @Post(':id/rotate-token')
  @ApiOperation({ summary: 'Rotate a device token', description: 'Issues a new device token (shown once); the old one stops working.' })
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
  @ApiOperation({ summary: 'Revoke a device token', description: 'The device can no longer connect or call the API until a token is rotated for it; it is disconnected now.' })
  @HttpCode(200)
  @RequireAccess('operator')
  @ApiOkResponse({ type: DeviceDto, description: 'The device has no token any more (hasToken false).' })
  @ApiNotFoundResponse()
  async revoke(@Param('id') id: string): Promise<DeviceView> {
    const view = await this.devices.revokeToken(id);
    this.transport.disconnect(id, 'the device token was revoked');
    return view;
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireAccess('operator')
  @ApiOperation({
    summary: 'Delete a device',
    description: 'Decommissions the device: it is disconnected, its token stops working and it leaves the registry. Its events stay in the log, so sessions it served keep its name.',
  })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiNotFoundResponse()
  async remove(@Param('id') id: string): Promise<void> {
    await this.devices.remove(id);
    this.transport.disconnect(id, 'this device was deleted by an operator');
  }
}
