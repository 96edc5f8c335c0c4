import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { projectionsSubscription, type Subscription } from '@ddnn/events';
import { Database } from '../database/database';

/**
 * Keeps the event log's projections (session summaries, device status; libs/events) current on this node.
 * Every node may run it: the subscription's checkpoint row lock lets one batch through at a time.
 */
@Injectable()
export class ProjectionsRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ProjectionsRunner.name);
  private subscription: Subscription | null = null;

  constructor(private readonly db: Database) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscription = projectionsSubscription(this.db.store, {
      onError: (e) => this.logger.warn(`projections batch failed (retrying): ${e instanceof Error ? e.message : e}`),
    });
    await this.subscription.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscription?.stop();
  }
}
