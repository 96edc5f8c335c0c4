import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import { emptySessionSummary, foldSessionSummary, streamIds, type NewEvent, type SessionEventsPage, type SessionSummary } from '@ddnn/contracts';
import { BatchingWriter, EventStore } from '@ddnn/events';
import { DATABASE_RUNTIME, type DatabaseRuntime } from '../database/database.tokens';
import type { EventSink } from './ports';

/** The session engine's view of the event log: a sink per session stream, resume state, pages, summaries. */
@Injectable()
export class SessionEventLog implements OnApplicationShutdown {
  readonly pool: Pool;
  readonly store: EventStore;
  /** Group commit across the samples in flight (and sessions); a sample's events commit together. */
  readonly writer: BatchingWriter;
  private readonly summaries = new Map<string, Promise<SessionSummary>>();

  constructor(@Inject(DATABASE_RUNTIME) db: DatabaseRuntime) {
    this.pool = new Pool({ connectionString: db.url, max: 6, application_name: 'ddnn-sessions' });
    this.pool.on('error', () => undefined);
    this.store = new EventStore(this.pool);
    // One session is one stream, hence one lane with one batch in flight: big batches keep its commits few.
    this.writer = new BatchingWriter(this.store, { maxBatchEvents: 2000, maxDelayMs: 5 });
  }

  /** Where a session's events go; one call's events are appended together, in order. */
  sink(sessionId: string): EventSink {
    const stream = streamIds.session(sessionId);
    return { append: async (events: NewEvent[]) => void (await this.writer.append(stream, events)) };
  }

  /** What a previous owner already logged: SessionStarted, and the samples started (each logged whole). */
  async logged(sessionId: string): Promise<{ started: boolean; samples: Set<number> }> {
    const started = (await this.store.readSessionEventsByType(sessionId, 'SessionStarted', { limit: 1 })).length > 0;
    const samples = new Set<number>();
    for (let from = 1; ; ) {
      const page = await this.store.readSessionEventsByType(sessionId, 'SampleStarted', { from, limit: 5000 });
      for (const e of page) samples.add(e.data.sampleIndex);
      if (page.length < 5000) break;
      from = page[page.length - 1].streamPosition + 1;
    }
    return { started, samples };
  }

  async page(sessionId: string, after: string | undefined, limit: number): Promise<SessionEventsPage> {
    const page = await this.store.readSessionEvents(sessionId, { after, limit });
    return { events: page.events, checkpoint: page.events.length || after ? page.checkpoint : null, hasMore: page.hasMore };
  }

  /** Samples logged so far (each sample is logged whole, so SampleStarted counts finished samples). */
  async countSamples(sessionId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM events WHERE stream_id = $1 AND type = 'SampleStarted'`,
      [streamIds.session(sessionId)],
    );
    return Number(rows[0].n);
  }

  /**
   * The session's summary, folded from its events to the head of the log with the projection's own fold
   * (the stored projection may lag; a watched session must show every committed event). Each node keeps the
   * fold it already did (a cache: any node can rebuild it from the log) and folds only the events after it.
   */
  summary(sessionId: string): Promise<SessionSummary> {
    const previous = this.summaries.get(sessionId) ?? Promise.resolve(emptySessionSummary(sessionId));
    const next = previous.catch(() => emptySessionSummary(sessionId)).then(async (summary) => {
      for (;;) {
        const page = await this.store.readSessionEvents(sessionId, { after: summary.checkpoint ?? undefined, limit: 1000 });
        for (const e of page.events) summary = foldSessionSummary(summary, e);
        if (!page.hasMore) return summary;
      }
    });
    this.summaries.set(sessionId, next);
    if (this.summaries.size > 1000) this.summaries.delete(this.summaries.keys().next().value as string);
    return next;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.writer.close().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }
}
