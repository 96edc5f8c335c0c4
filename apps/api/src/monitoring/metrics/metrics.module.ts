import { Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { MetricsRepository } from './metrics.repository';
import { MetricsRollupRunner } from './metrics-rollup-runner';
import { MetricsService } from './metrics.service';

/** Metrics over time (GET /api/metrics): the rollup's subscription and the service alert rules read through. */
@Module({
  controllers: [MetricsController],
  providers: [MetricsRepository, MetricsService, MetricsRollupRunner],
  exports: [MetricsService],
})
export class MetricsModule {}
