import { Injectable, Logger } from '@nestjs/common';
import { emptySessionSummary, streamIds, type SessionEventsPage, type SessionSummary } from '@ddnn/contracts';
import { foldToHead, type EventStore } from '@ddnn/events';
import { Database } from '../database/database';
import { outageProofSink } from './append-retry';
import type { EventSink } from './ports';

/** The session engine's view of the event log: a sink per session stream, resume state, pages, summaries. */
@Injectable()
export class SessionEventLog {
  private readonly logger = new Logger(SessionEventLog.name);
  readonly store: EventStore;
  private readonly summaries = new Map<string, Promise<SessionSummary>>();

  constructor(private readonly db: Database) {
    this.store = db.store;
  }

  /**
   * Where a session's events go; one call's events are appended together, in order. While the database is
   * unreachable the append is retried with backoff (the ids given here make a retry of a commit whose answer
   * was lost write nothing twice); after the outage limit it fails with a DatabaseUnavailableError. With the
   * owner's `fence` (takeOver), appends are refused once another node has taken the session over.
   */
  sink(sessionId: string, fence?: number): EventSink {
    const stream = streamIds.session(sessionId);
    return outageProofSink(this.db, stream, (m) => this.logger.warn(`session ${sessionId}: ${m}`), fence);
  }

  /** Makes this node the session's writer (its log stream's next fence, see EventStore.takeFence): before `logged`. */
  takeOver(sessionId: string): Promise<number> {
    return this.store.takeFence(streamIds.session(sessionId));
  }

  /** What a previous owner already logged: SessionStarted, and the samples started (each logged whole). */
  async logged(sessionId: string): Promise<{ started: boolean; samples: Set<number> }> {
    const stream = streamIds.session(sessionId);
    const started = (await this.store.countByType(stream, 'SessionStarted')) > 0;
    const samples = new Set<number>();
    for await (const page of this.store.payloadsByType(stream, 'SampleStarted')) for (const e of page) samples.add(e.data.sampleIndex);
    return { started, samples };
  }

  async page(sessionId: string, after: string | undefined, limit: number): Promise<SessionEventsPage> {
    const page = await this.store.readSessionEvents(sessionId, { after, limit });
    return { events: page.events, checkpoint: page.events.length || after ? page.checkpoint : null, hasMore: page.hasMore };
  }

  /** Drops a deleted run's fold (every read of a run looks its row up first: this frees the memory). */
  forget(runId: string): void {
    this.summaries.delete(runId);
  }

  /**
   * The session's summary, folded from its events to the head of the log with the projection's own fold
   * (the stored projection may lag; a watched session must show every committed event). Each node keeps the
   * fold it already did (a cache: any node can rebuild it from the log) and folds only the events after it.
   */
  summary(sessionId: string, ended = false): Promise<SessionSummary> {
    const previous = this.summaries.get(sessionId) ?? Promise.resolve(emptySessionSummary(sessionId));
    const next = previous.catch(() => emptySessionSummary(sessionId)).then((summary) => foldToHead(this.store, streamIds.session(sessionId), summary, { complete: ended }));
    this.summaries.set(sessionId, next);
    if (this.summaries.size > 1000) this.summaries.delete(this.summaries.keys().next().value as string);
    return next;
  }
}
