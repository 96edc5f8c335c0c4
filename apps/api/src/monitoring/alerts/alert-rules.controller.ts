import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Put } from '@nestjs/common';
import { ApiNoContentResponse, ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AlertRuleView } from '@ddnn/contracts';
import { RequireAccess } from '../../auth/access.decorator';
import { CreateAlertRuleDto } from './alert.dto';
import { AlertRulesService } from './alert-rules.service';

@ApiTags('alerts')
@RequireAccess('operator')
@Controller('alert-rules')
export class AlertRulesController {
  constructor(private readonly rules: AlertRulesService) {}

  @Get()
  @ApiOperation({ summary: 'List alert rules', description: 'Every rule with its count of open (pending or firing) alerts; the defaults carry their defaultKey.' })
  list(): Promise<AlertRuleView[]> {
    return this.rules.list();
  }

  @Post()
  @ApiOperation({ summary: 'Create an alert rule', description: 'A metric, a scope (a run, every running run, a device, every device), a condition, how long it must hold, a clear condition and a severity.' })
  create(@Body() body: CreateAlertRuleDto): Promise<AlertRuleView> {
    return this.rules.create(body);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get an alert rule', description: 'Its metric, scope, condition, duration, clear condition, severity and count of open alerts.' })
  @ApiNotFoundResponse()
  get(@Param('id', new ParseUUIDPipe()) id: string): Promise<AlertRuleView> {
    return this.rules.get(id);
  }

  @Put(':id')
  @ApiOperation({ summary: 'Replace an alert rule', description: 'Disabling a rule resolves its open alerts.' })
  @ApiNotFoundResponse()
  update(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: CreateAlertRuleDto): Promise<AlertRuleView> {
    return this.rules.update(id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an alert rule', description: 'Its open alerts resolve; its past alerts and its event stream stay.' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse()
  delete(@Param('id', new ParseUUIDPipe()) id: string): Promise<void> {
    return this.rules.delete(id);
  }
}
