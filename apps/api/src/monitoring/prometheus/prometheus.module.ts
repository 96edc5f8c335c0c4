import { Module } from '@nestjs/common';
import { AlertsModule } from '../alerts/alerts.module';
import { ClusterTotalsRunner } from './cluster-totals.runner';
import { MetricsAuthGuard } from './metrics-auth.guard';
import { PrometheusController } from './prometheus.controller';
import { PrometheusMetrics } from './prometheus-metrics';

/** GET /metrics for Prometheus, and the subscription that keeps its cluster totals. */
@Module({
  imports: [AlertsModule],
  controllers: [PrometheusController],
  providers: [PrometheusMetrics, ClusterTotalsRunner, MetricsAuthGuard],
})
export class PrometheusModule {}
