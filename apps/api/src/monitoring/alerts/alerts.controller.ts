import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AlertListResponse, AlertView } from '@ddnn/contracts';
import { RequireAccess } from '../../auth/access.decorator';
import { AcknowledgeAlertDto, AlertListQueryDto, SilenceAlertDto } from './alert.dto';
import { AlertsService } from './alerts.service';

@ApiTags('alerts')
@RequireAccess('operator')
@Controller('alerts')
export class AlertsController {
  constructor(private readonly alerts: AlertsService) {}

  @Get()
  @ApiOperation({ summary: 'List alerts', description: 'Firing first, then pending, then resolved (most recent first); filter by state (open = pending or firing), rule, device or run.' })
  list(@Query() q: AlertListQueryDto): Promise<AlertListResponse> {
    return this.alerts.list(q);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get an alert', description: 'One alert of a rule on one subject: its state (pending, firing, resolved), values, times, acknowledgement and silence.' })
  @ApiNotFoundResponse()
  get(@Param('id', new ParseUUIDPipe()) id: string): Promise<AlertView> {
    return this.alerts.get(id);
  }

  @Post(':id/acknowledge')
  @HttpCode(200)
  @ApiOperation({ summary: 'Acknowledge an alert', description: 'Someone is on it: recorded with an optional note (idempotent).' })
  @ApiNotFoundResponse()
  acknowledge(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: AcknowledgeAlertDto): Promise<AlertView> {
    return this.alerts.acknowledge(id, body.note);
  }

  @Post(':id/silence')
  @HttpCode(200)
  @ApiOperation({ summary: 'Silence an alert', description: "Mutes its notifications (and those of the next alert of the same rule and subject) until a time; a past time lifts the silence." })
  @ApiNotFoundResponse()
  silence(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: SilenceAlertDto): Promise<AlertView> {
    return this.alerts.silence(id, body.until);
  }
}
