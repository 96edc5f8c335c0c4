import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { METRIC_NAMES, type ConnectivityTimeline, type MetricLatestResponse, type MetricSeries, type RunWindowTotals } from '@ddnn/contracts';
import { RequireAccess } from '../../auth/access.decorator';
import { parseConnectivityQuery, parseLatestQuery, parseMetricQuery, parseTotalsQuery } from './metrics.query';
import { MetricsService } from './metrics.service';

@ApiTags('metrics')
@RequireAccess('operator')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @ApiOperation({
    summary: 'A metric over time',
    description:
      'One metric for the fleet, a run (session or stream), a device or a link, over [from, to) in steps (one minute to days; chosen from the window when omitted). Estimates carry a 95% interval; estimates and drift name the labelled reference run they used.',
  })
  @ApiQuery({ name: 'metric', required: true, enum: METRIC_NAMES })
  @ApiQuery({ name: 'runId', required: false })
  @ApiQuery({ name: 'deviceId', required: false })
  @ApiQuery({ name: 'link', required: false, description: '<from>-><to>, e.g. a device id ->local' })
  @ApiQuery({ name: 'from', required: false, description: 'epoch ms or ISO time (default: an hour before to)' })
  @ApiQuery({ name: 'to', required: false, description: 'epoch ms or ISO time (default: now)' })
  @ApiQuery({ name: 'step', required: false, description: 'ms or 1m, 5m, 1h, 1d (whole minutes); at most 11,000 points' })
  @ApiQuery({ name: 'reference', required: false, description: 'labelled reference run for estimates and drift (default: the latest completed labelled run of the same model)' })
  @ApiOkResponse({ description: 'The series: one point per step, empty steps included (value null when there is nothing to measure).' })
  @ApiBadRequestResponse({ description: 'An unknown metric, a subject the metric is not measured by, a malformed time or step, too many points.' })
  series(@Query() query: Record<string, unknown>): Promise<MetricSeries> {
    return this.metrics.query(parseMetricQuery(query));
  }

  @Get('latest')
  @ApiOperation({ summary: 'A metric over the last window', description: 'The value alert rules evaluate: one metric over the last `window` (default 5m).' })
  @ApiQuery({ name: 'metric', required: true, enum: METRIC_NAMES })
  @ApiQuery({ name: 'window', required: false, description: 'ms or 1m, 5m, 1h, 1d' })
  @ApiOkResponse({ description: 'The value, null when the window holds nothing to measure.' })
  async latest(@Query() query: Record<string, unknown>): Promise<MetricLatestResponse> {
    const q = parseLatestQuery(query);
    const value = await this.metrics.latest(q.metric, q.subject, q.windowMs, q.referenceRunId);
    return { metric: q.metric, subject: q.subject, windowMs: q.windowMs, value };
  }

  @Get('totals')
  @ApiOperation({
    summary: 'What a run counted over a window',
    description:
      'Samples started, decided (by exit) and unanswered, labelled and right, bytes and messages, device requests answered and missed, the gaps of a stream (triggers missed by cause, outages; counted when each was logged), summed from the rollup over [from, to) widened to whole minutes (whole hours over two days or more): the figures of a window too long to read event by event.',
  })
  @ApiQuery({ name: 'runId', required: true })
  @ApiQuery({ name: 'from', required: false, description: 'epoch ms or ISO time (default: an hour before to)' })
  @ApiQuery({ name: 'to', required: false, description: 'epoch ms or ISO time (default: now)' })
  @ApiOkResponse({ description: 'The totals (all 0 for a run or window without samples).' })
  @ApiBadRequestResponse({ description: 'No runId, a malformed time, a window over 31 days or ending before it starts.' })
  totals(@Query() query: Record<string, unknown>): Promise<RunWindowTotals> {
    const q = parseTotalsQuery(query);
    return this.metrics.totals(q.runId, q.from, q.to);
  }

  @Get('connectivity')
  @ApiOperation({ summary: "A device's connectivity over time", description: 'Connected, inactive and disconnected spans of one device over [from, to) (default: the last 24 hours).' })
  @ApiQuery({ name: 'deviceId', required: true })
  @ApiOkResponse({ description: 'Spans in time order; `unknown` before anything is known.' })
  connectivity(@Query() query: Record<string, unknown>): Promise<ConnectivityTimeline> {
    const q = parseConnectivityQuery(query);
    return this.metrics.connectivity(q.deviceId, q.from, q.to);
  }
}
