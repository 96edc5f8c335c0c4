import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module';
import { MetricsService } from '../metrics/metrics.service';
import { AlertEvaluator } from './alert-evaluator';
import { AlertLog } from './alert-log';
import { AlertMetricReader } from './alert-metric-reader';
import { AlertNotifier } from './alert-notifier';
import { AlertRulesController } from './alert-rules.controller';
import { AlertRulesService } from './alert-rules.service';
import { AlertSubjects } from './alert-subjects';
import { AlertTransitions } from './alert-transitions';
import { AlertsController } from './alerts.controller';
import { AlertsRepository } from './alerts.repository';
import { AlertsService } from './alerts.service';
import { METRIC_READER } from './metric-reader';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhooksController } from './webhooks.controller';
import { WebhooksRepository } from './webhooks.repository';
import { WebhooksService } from './webhooks.service';

/** Alert rules, their evaluation (one node at a time), alerts, and webhook notifications. */
@Module({
  imports: [MetricsModule],
  controllers: [AlertRulesController, AlertsController, WebhooksController],
  providers: [
    AlertsRepository,
    AlertLog,
    AlertSubjects,
    AlertMetricReader,
    AlertNotifier,
    AlertTransitions,
    AlertRulesService,
    AlertsService,
    AlertEvaluator,
    WebhooksRepository,
    WebhooksService,
    WebhookDispatcher,
    // Rules read the same rollup the Monitoring page charts (one definition of every metric).
    { provide: METRIC_READER, useExisting: MetricsService },
  ],
  exports: [AlertsRepository],
})
export class AlertsModule {}
