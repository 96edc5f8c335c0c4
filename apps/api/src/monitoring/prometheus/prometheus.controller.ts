import { Controller, Get, Header, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { MetricsAuthGuard } from './metrics-auth.guard';
import { PROMETHEUS_ROUTE } from './prometheus-path';
import { PrometheusMetrics } from './prometheus-metrics';

/** GET /metrics (outside /api, where Prometheus looks by default: see prometheusPathAlias), also GET /api/prometheus. */
@ApiTags('monitoring')
@ApiBearerAuth()
@UseGuards(MetricsAuthGuard)
@Controller(PROMETHEUS_ROUTE)
export class PrometheusController {
  constructor(private readonly metrics: PrometheusMetrics) {}

  @Get()
  @Header('cache-control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics', description: 'Text exposition format 0.0.4. Bearer: the operator token or DDNN_METRICS_TOKEN. The README lists the metrics.' })
  @ApiOkResponse({ description: 'text/plain; version=0.0.4' })
  async scrape(@Res() res: Response): Promise<void> {
    const { contentType, body } = await this.metrics.scrape();
    res.setHeader('content-type', contentType);
    // end(), not send(): Express would rewrite the content type Prometheus negotiates on.
    res.end(body);
  }
}
