import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { HealthResponse } from '@ddnn/contracts';
import { CredentialsService } from '../auth/credentials.service';
import { bearerToken } from '../auth/tokens';
import { HealthService } from './health.service';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthService,
    private readonly credentials: CredentialsService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Health', description: 'Up or down and the version, for anyone; with the operator token also the database details (never its address). 503 when the database does not answer.' })
  @ApiOkResponse({ description: 'Up, with the version; with the operator token (Authorization: Bearer) also the database details.' })
  @ApiServiceUnavailableResponse({ description: 'Down: the database does not answer.' })
  async get(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<HealthResponse> {
    const token = bearerToken(req.headers.authorization);
    const operator = token ? (await this.credentials.identify(token).catch(() => ({ kind: 'unknown' as const }))).kind === 'operator' : false;
    const report = await this.health.check(operator);
    if (report.status !== 'up') res.status(503);
    return report;
  }
}
