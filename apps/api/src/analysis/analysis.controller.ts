import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { type CompareResponse, type ExportWhat, InvalidInputError, NotFoundError, type SweepResult } from '@ddnn/contracts';
import { RequireAccess } from '../auth/access.decorator';
import { CompareRequestDto } from './analysis.dto';
import { AnalysisService } from './analysis.service';
import { CsvExport } from './csv-export';

/** Starts a CSV download; errors after this point can only cut the stream short. */
function csvHeaders(res: Response, filename: string): void {
  res.status(200);
  res.setHeader('content-type', 'text/csv; charset=utf-8');
  res.setHeader('content-disposition', `attachment; filename="${filename}"`);
}

@ApiTags('analysis')
@RequireAccess('operator')
@Controller('analysis')
export class AnalysisController {
  constructor(
    private readonly analysis: AnalysisService,
    private readonly csv: CsvExport,
  ) {}

  @Post('compare')
  @ApiOperation({ summary: 'Compare exit policies', description: 'Evaluates each policy counterfactually on each recorded session: accuracy, exit rates, bytes per link and the latency a link model implies; marks the accuracy-vs-bytes Pareto frontier per session.' })
  @HttpCode(200)
  @ApiOkResponse({ description: 'One row per (session, policy): counterfactual accuracy, exits, bytes per link, latency; `dominated` marks the Pareto frontier per session; not-evaluable rows say what is missing.' })
  @ApiBadRequestResponse({ description: 'A malformed request or policy (the message names it).' })
  @ApiNotFoundResponse({ description: 'A session has no events.' })
  compare(@Body() body: CompareRequestDto): Promise<CompareResponse> {
    return this.analysis.compare(body);
  }

  @Get('sweep')
  @ApiOperation({ summary: 'Sweep a threshold', description: 'The accuracy, exit rates, bytes and mean latency of a threshold policy at evenly spaced thresholds on one session, or on a window of samples of a session or a stream.' })
  @ApiQuery({ name: 'sessionId', required: true })
  @ApiQuery({ name: 'policy', required: true, description: 'entropy, confidence, margin, or a threshold policy as JSON' })
  @ApiQuery({ name: 'points', required: false, description: 'thresholds over [0, 1] (default 100)' })
  @ApiQuery({ name: 'linkModel', required: false, description: 'link model JSON for the latency estimate' })
  @ApiQuery({ name: 'fromSample', required: false, description: 'with toSample: only the samples in this window (indices, inclusive); required for a stream' })
  @ApiQuery({ name: 'toSample', required: false, description: 'the last sample of the window' })
  @ApiOkResponse({ description: 'The threshold curve: accuracy, exit rate per tier, bytes and mean latency per point; `evaluable` false where the session lacks the outputs.' })
  @ApiBadRequestResponse({ description: 'A missing or malformed parameter, or a stream without a window.' })
  @ApiNotFoundResponse({ description: 'No run with that id has events.' })
  sweep(
    @Query('sessionId') sessionId?: string,
    @Query('policy') policy?: string,
    @Query('points') points?: string,
    @Query('linkModel') linkModel?: string,
    @Query('fromSample') fromSample?: string,
    @Query('toSample') toSample?: string,
  ): Promise<SweepResult> {
    return this.analysis.sweep({ sessionId, policy, points, linkModel, fromSample, toSample });
  }

  @Get('sessions.csv')
  @ApiOperation({ summary: 'Export sessions as CSV', description: 'Every session with its live outcome, streamed as CSV.' })
  @ApiProduces('text/csv')
  @ApiOkResponse({ description: 'Every session with its live outcome (samples, accuracy, local exit rate, bytes per sample), streamed.' })
  async sessionsCsv(@Res() res: Response): Promise<void> {
    csvHeaders(res, 'sessions.csv');
    await this.csv.sessions(res).catch((e) => res.destroy(e));
  }
}

@ApiTags('analysis')
@RequireAccess('operator')
@Controller('sessions')
export class SessionExportController {
  constructor(
    private readonly analysis: AnalysisService,
    private readonly csv: CsvExport,
  ) {}

  @Get(':id/export')
  @ApiOperation({ summary: 'Export a run as CSV', description: "A session's samples (one row each) or its events, or a stream's events, streamed from Postgres." })
  @ApiProduces('text/csv')
  @ApiQuery({ name: 'format', required: false, enum: ['csv'] })
  @ApiQuery({ name: 'what', required: false, enum: ['samples', 'events'] })
  @ApiOkResponse({ description: 'The session samples (one row each) or its events, streamed from Postgres as CSV.' })
  @ApiNotFoundResponse({ description: 'No run with this id has events.' })
  async export(
    @Param('id') id: string,
    @Res() res: Response,
    @Query('format') format = 'csv',
    @Query('what') what = 'samples',
  ): Promise<void> {
    if (format !== 'csv') throw new InvalidInputError(`query.format: unsupported format ${JSON.stringify(format.slice(0, 40))}, only csv`);
    if (what !== 'samples' && what !== 'events') throw new InvalidInputError(`query.what must be samples or events, got ${JSON.stringify(what.slice(0, 40))}`);
    const kind = await this.analysis.runKind(id);
    if (kind === null) throw new NotFoundError(`no events for run ${id}`);
    // A session's samples table is built in memory (one row a sample); a stream has no end, so its export is its
    // events, streamed (a window of its samples: POST /api/analysis/compare with fromSample/toSample).
    if (kind === 'stream' && what === 'samples') throw new InvalidInputError(`run ${id} is a stream: export its events (what=events); its samples have no end`);
    csvHeaders(res, `${kind}-${id}-${what}.csv`);
    await this.csv.run(kind, id, what as ExportWhat, res).catch((e) => res.destroy(e));
  }
}
