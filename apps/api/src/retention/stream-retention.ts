import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { applyStreamRetention, ensureStreamPartitions, type StreamPartition } from '@ddnn/events';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { Database } from '../database/database';

const day = (d: Date) => d.toISOString().slice(0, 10);
const span = (p: StreamPartition) => `${p.name} (${day(p.from)})`;
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * The event log's upkeep on this node: day partitions for stream events created ahead of need, and the stream
 * retention policy (DDNN_STREAM_RETENTION_DAYS; 0 keeps everything). Runs once before the other modules start
 * (onModuleInit: partitions exist before a stream appends) and every DDNN_RETENTION_INTERVAL_MS after. Every node
 * runs it; libs/events serialises them with an advisory lock and each step is idempotent. A failure (database
 * away, a lock held too long) is logged and retried at the next run: appends never depend on it (the default
 * partition takes an event whose day has no partition, and the next run moves it).
 */
@Injectable()
export class StreamRetention implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Retention');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly db: Database,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'DDNN_STREAM_RETENTION_DAYS' | 'DDNN_RETENTION_INTERVAL_MS' | 'DDNN_STREAM_PARTITION_DAYS_AHEAD'>,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.run();
    this.timer = setInterval(() => void this.run(), this.config.DDNN_RETENTION_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass (never two at once on this node); resolves when done, never rejects. */
  run(): Promise<void> {
    this.running ??= this.pass().finally(() => (this.running = null));
    return this.running;
  }

  private async pass(): Promise<void> {
    const { pool } = this.db;
    try {
      const made = await ensureStreamPartitions(pool, { daysAhead: this.config.DDNN_STREAM_PARTITION_DAYS_AHEAD });
      if (made.created.length) {
        this.logger.log(`created stream event partitions ${made.created.map(span).join(', ')}${made.moved ? `, moved ${made.moved} events into them from the default partition` : ''}`);
      }
      for (const f of made.failed) this.logger.warn(`could not create stream event partition ${span(f.partition)} (next run retries): ${f.error}`);
    } catch (e) {
      this.logger.warn(`stream event partitions not checked (next run retries): ${message(e)}`);
    }
    const days = this.config.DDNN_STREAM_RETENTION_DAYS;
    if (days === 0) return;
    try {
      const r = await applyStreamRetention(pool, { days });
      for (const p of r.dropped) {
        const events = p.estimatedEvents === null ? 'not analysed' : `about ${p.estimatedEvents} events`;
        this.logger.log(`retention (${days} days): dropped stream event partition ${span(p)}, ${events}, ${Math.round(p.bytes / 1024)} KiB`);
      }
      if (r.expiredSampleStates) this.logger.log(`retention (${days} days): forgot ${r.expiredSampleStates} expired stream samples the metrics rollup kept for their labels`);
      if (r.deletedFromDefault) this.logger.log(`retention (${days} days): deleted ${r.deletedFromDefault} stream events written before ${r.cutoff.toISOString()} from the default partition`);
      for (const f of r.failed) this.logger.warn(`retention (${days} days): could not drop ${span(f.partition)} (next run retries): ${f.error}`);
    } catch (e) {
      this.logger.warn(`retention (${days} days) not applied (next run retries): ${message(e)}`);
    }
  }
}
