import { Injectable, Logger } from '@nestjs/common';
import { emptySessionSummary, streamIds, type SessionEventsPage, type SessionSummary } from '@ddnn/contracts';
import { foldToHead, type EventStore } from '@ddnn/events';
import { Database } from '../database/database';
import { outageProofSink } from './append-retry';
import type { EventSink } from './ports';
import type { LoggedStream } from './stream-runner';

/** Folds kept per node (a cache: any node rebuilds one from the log). */
const MAX_CACHED_SUMMARIES = 200;

/**
 * The stream engine's view of the event log: a sink per production stream (log stream `stream-<id>`, the
 * events retention may drop by age), resume state, pages and the summary folded to the head of the log.
 */
@Injectable()
export class StreamEventLog {
  private readonly logger = new Logger(StreamEventLog.name);
  readonly store: EventStore;
  private readonly summaries = new Map<string, Promise<SessionSummary>>();

  constructor(private readonly db: Database) {
    this.store = db.store;
  }

  /**
   * Appends through the batching writer, retried through outages with the same event ids (never twice); with the
   * owner's `fence` (takeOver), refused once another node has taken the stream over.
   */
  sink(runId: string, fence?: number): EventSink {
    const stream = streamIds.stream(runId);
    return outageProofSink(this.db, stream, (m) => this.logger.warn(`stream ${runId}: ${m}`), fence);
  }

  /** Makes this node the stream's writer (its log stream's next fence, see EventStore.takeFence): before `logged`. */
  takeOver(runId: string): Promise<number> {
    return this.store.takeFence(streamIds.stream(runId));
  }

  /**
   * What a previous owner logged: StreamStarted, how many samples, and the highest index (samples are logged
   * whole). The highest, not the newest: samples in flight commit in any order, and resuming after the newest
   * re-ran samples logged before it with higher indices (two-node e2e: 53 and 55 decided twice after a kill).
   */
  async logged(runId: string): Promise<LoggedStream> {
    const stream = streamIds.stream(runId);
    const [started, samples, lastIndex, last] = await Promise.all([
      this.store.countByType(stream, 'StreamStarted'),
      this.store.countByType(stream, 'SampleStarted'),
      this.store.highestSampleIndex(stream, 'SampleStarted'),
      this.store.lastPayload(stream, 'SampleStarted'),
    ]);
    // The last sample logged, not the highest: the newest trigger is within a window's half second of either.
    return { started: started > 0, samples, lastIndex, lastTriggeredAt: last?.data.triggeredAt ?? null };
  }

  async page(runId: string, q: { after?: string; limit: number; from?: Date; to?: Date }): Promise<SessionEventsPage> {
    const { after } = q;
    const page = await this.store.readStreamAfter(streamIds.stream(runId), q);
    return { events: page.events, checkpoint: page.events.length || after ? page.checkpoint : null, hasMore: page.hasMore };
  }

  /** Drops a deleted run's fold (every read of a run looks its row up first: this frees the memory). */
  forget(runId: string): void {
    this.summaries.delete(runId);
  }

  /** The stream's summary folded to the head of the log, continuing this node's previous fold. */
  summary(runId: string, ended = false): Promise<SessionSummary> {
    const stream = streamIds.stream(runId);
    const previous = this.summaries.get(runId) ?? Promise.resolve(emptySessionSummary(runId));
    const next = previous.catch(() => emptySessionSummary(runId)).then((summary) => foldToHead(this.store, stream, summary, { complete: ended }));
    this.summaries.delete(runId);
    this.summaries.set(runId, next);
    if (this.summaries.size > MAX_CACHED_SUMMARIES) this.summaries.delete(this.summaries.keys().next().value as string);
    return next;
  }
}
