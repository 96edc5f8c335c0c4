import { Module } from '@nestjs/common';
import { AlertsModule } from './alerts/alerts.module';
import { PrometheusModule } from './prometheus/prometheus.module';

/** Issue 17's monitoring: alert rules and webhooks, and GET /metrics. (The metrics rollup joins here at merge.) */
@Module({
  imports: [AlertsModule, PrometheusModule],
})
export class MonitoringModule {}
