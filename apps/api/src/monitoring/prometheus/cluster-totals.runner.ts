import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { subscribe, type Subscription } from '@ddnn/events';
import { Database } from '../../database/database';
import { foldTotals, splitTotalsKey } from './cluster-totals';

export const CLUSTER_TOTALS_SUBSCRIPTION = 'prometheus-totals';

/**
 * Keeps prometheus_totals current from the log. A named subscription: each batch and its checkpoint commit in
 * one transaction under the checkpoint row's lock, so with any number of nodes every event is counted exactly
 * once, and a restart resumes where it stopped. Every node then serves the same cluster totals at GET /metrics.
 */
@Injectable()
export class ClusterTotalsRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ClusterTotalsRunner.name);
  private subscription: Subscription | null = null;

  constructor(private readonly db: Database) {}

  async onApplicationBootstrap(): Promise<void> {
    this.subscription = await subscribe(this.db.store, {
      name: CLUSTER_TOTALS_SUBSCRIPTION,
      batchSize: 2000,
      // Scrapes come every 15 s or so (Prometheus' default interval): a batch every 5 s serves them as well as one per
      // commit did, at a fifth of the idle demo's statements of one a second.
      minBatchIntervalMs: 5000,
      onError: (e) => this.logger.warn(`prometheus totals batch failed (retrying): ${e instanceof Error ? e.message : e}`),
      handle: async (events, tx) => {
        const delta = foldTotals(events);
        if (delta.size === 0 || !tx) return;
        const names: string[] = [];
        const labels: string[] = [];
        const values: number[] = [];
        for (const [key, v] of delta) {
          const s = splitTotalsKey(key);
          names.push(s.name);
          labels.push(JSON.stringify(s.labels));
          values.push(v);
        }
        await tx.query(
          `INSERT INTO prometheus_totals (name, labels, value)
           SELECT * FROM unnest($1::text[], $2::jsonb[], $3::float8[])
           ON CONFLICT (name, labels) DO UPDATE SET value = prometheus_totals.value + EXCLUDED.value`,
          [names, labels, values],
        );
      },
    });
  }

  /** Handles everything committed so far (tests). */
  catchUp(): Promise<void> {
    return this.subscription ? this.subscription.catchUp() : Promise.resolve();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscription?.stop();
  }
}
