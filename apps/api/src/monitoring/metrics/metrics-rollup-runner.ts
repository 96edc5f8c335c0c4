import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { metricsRollupSubscription, type Subscription } from '@ddnn/events';
import { Database } from '../../database/database';

/**
 * Keeps the metrics rollup (libs/events) current on this node. Every node may run it: the subscription's
 * checkpoint row lock lets one batch through at a time, so the nodes share the work without double counting.
 */
@Injectable()
export class MetricsRollupRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MetricsRollupRunner.name);
  private subscription: Subscription | null = null;

  constructor(private readonly db: Database) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscription = metricsRollupSubscription(this.db.store, {
      // Two seconds of a busy node's log in one batch (see ROLLUP_BATCH_INTERVAL_MS).
      batchSize: 5000,
      onError: (e) => this.logger.warn(`metrics rollup batch failed (retrying): ${e instanceof Error ? e.message : e}`),
    });
    await this.subscription.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscription?.stop();
  }
}
