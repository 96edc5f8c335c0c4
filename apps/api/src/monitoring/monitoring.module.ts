import { Module } from '@nestjs/common';
import { AlertsModule } from './alerts/alerts.module';
import { MetricsModule } from './metrics/metrics.module';
import { PrometheusModule } from './prometheus/prometheus.module';

/** Monitoring: metrics over time (the rollup), alert rules and webhooks over them, and GET /metrics for Prometheus. */
@Module({
  imports: [MetricsModule, AlertsModule, PrometheusModule],
})
export class MonitoringModule {}
