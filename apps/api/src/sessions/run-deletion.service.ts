import { ConflictException, Inject, Injectable, Logger, NotFoundException, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { RunKind } from '@ddnn/contracts';
import { AnalysisRepository } from '../analysis/analysis.repository';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { SessionEventLog } from '../orchestrator/session-event-log';
import { SessionStore } from '../orchestrator/session-store';
import { StreamEventLog } from '../orchestrator/stream-event-log';
import { RunDeletionRepository, type DeletableRun } from './run-deletion.repository';

/** What a DELETE answers: gone (204), or still going on in the background (202). */
export type RunDeletionState = 'deleted' | 'deleting';

/** How one deletion job ended: done, or left to whoever holds the run's lock (a node closing the run, another deletion). */
type JobOutcome = 'deleted' | 'held';

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * An operator deletes an ended run (a session or a stream) with everything derived from it: its log stream, its
 * read models' rows, its row and run metadata, this node's cached summary fold and analysis table (other nodes'
 * caches of it are never read again: every read of a run looks its row, or its log stream's version, up first).
 * What the platform keeps of it is a RunDeleted event in the `runs` stream. Alerts about it need nothing here: the
 * alert engine evaluates runs while they run, and resolves an open alert whose run left that scope as `subject-gone`.
 *
 * A weeks-long stream's log takes minutes to delete (a chunk at a time, ~18,000 events a second here), longer than
 * a request should be held open: DELETE waits DDNN_RUN_DELETION_WAIT_MS, then answers 202 while this node goes on.
 * The run's row says its deletion was asked for (its views show `deletingSince`), and every node looks for such
 * runs every DDNN_RUN_DELETION_RESUME_MS to finish what a node that died left. A job holds the run's advisory lock
 * while it trims the log (one job a run across the nodes; a node still closing the run holds it too).
 */
@Injectable()
export class RunDeletionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RunDeletionService.name);
  /** This node's deletions going on, by run id. */
  private readonly jobs = new Map<string, Promise<JobOutcome>>();
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;

  constructor(
    private readonly repo: RunDeletionRepository,
    private readonly analysis: AnalysisRepository,
    private readonly sessionLog: SessionEventLog,
    private readonly streamLog: StreamEventLog,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'DDNN_RUN_DELETION_WAIT_MS' | 'DDNN_RUN_DELETION_RESUME_MS'>,
  ) {}

  onApplicationBootstrap(): void {
    void this.resume();
    this.timer = setInterval(() => void this.resume(), this.config.DDNN_RUN_DELETION_RESUME_MS);
    this.timer.unref();
  }

  /** Jobs going on are cut short (their connections close with the pool); the lock goes with its connection and any node resumes them. */
  onApplicationShutdown(): void {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Deletes the run of this kind: 404 when there is none, 409 while it is queued or running (or a node is still
   * wrapping it up). A retry after an answer that was lost, or two deletions at once, find the run deleted (or
   * being deleted) and succeed without recording it again. 'deleting': not done within DDNN_RUN_DELETION_WAIT_MS;
   * it goes on.
   */
  async delete(kind: RunKind, id: string): Promise<RunDeletionState> {
    const run = await this.repo.find(id);
    if (!run || run.kind !== kind) {
      if ((await this.repo.deletion(id.toLowerCase()))?.kind === kind) return 'deleted';
      throw new NotFoundException(`no ${kind} ${id}`);
    }
    if (!SessionStore.isFinal(run.status)) {
      throw new ConflictException(`${kind} ${id} is ${run.status}: stop it first (POST /api/${kind}s/${id}/stop), then delete it once it has stopped`);
    }
    const job = this.jobs.get(run.id) ?? this.start(run);
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<'waited'>((resolve) => (timer = setTimeout(() => resolve('waited'), this.config.DDNN_RUN_DELETION_WAIT_MS)));
    const outcome = await Promise.race([job, waited]).finally(() => clearTimeout(timer));
    if (outcome === 'deleted') return 'deleted';
    if (outcome === 'waited') return 'deleting';
    // Its lock is held: by a deletion going on (asked for on another node, maybe just now), or by the node closing it.
    const now = await this.repo.find(run.id);
    if (!now) return 'deleted';
    if (now.deletionRequested) return 'deleting';
    throw new ConflictException(`${kind} ${id} has ended but a node is still closing it: try again in a moment`);
  }

  /** Resumes the deletions asked for that no node is doing (their node died); never rejects. */
  async resume(): Promise<void> {
    try {
      for (const run of await this.repo.requested()) {
        if (this.stopping) return;
        if (this.jobs.has(run.id)) continue;
        this.start(run).catch(() => undefined);
      }
    } catch (e) {
      if (!this.stopping) this.logger.warn(`could not look for unfinished run deletions (next look retries): ${message(e)}`);
    }
  }

  /** Starts a job (one a run on this node); a failure is logged here and left to the next resume. */
  private start(run: DeletableRun): Promise<JobOutcome> {
    const job = this.deleteRun(run).finally(() => this.jobs.delete(run.id));
    this.jobs.set(run.id, job);
    job.catch((e: unknown) => {
      if (!this.stopping) this.logger.warn(`deleting ${run.kind} ${run.id} failed (a node resumes it within ${this.config.DDNN_RUN_DELETION_RESUME_MS} ms): ${message(e)}`);
    });
    return job;
  }

  private async deleteRun(run: DeletableRun): Promise<JobOutcome> {
    // Before any of its log goes: a node that still holds the run may still append (and another deletion is doing it).
    const lock = await this.repo.lock(run.id);
    if (!lock) return 'held';
    let trimmed: number;
    try {
      await this.repo.markRequested(run.id);
      if (!run.deletionRequested) this.logger.log(`deleting ${run.kind} ${run.id}`);
      trimmed = await this.repo.trim(run);
    } finally {
      // The last transaction takes the lock itself (with the row's), on a connection of the pool.
      await lock.release();
    }
    const status = run.status;
    if (!SessionStore.isFinal(status)) throw new Error(`${run.kind} ${run.id} is ${status}`);
    const outcome = await this.repo.delete({ ...run, status });
    // Taken by another deletion between the release and the transaction: that one finishes it.
    if (outcome.kind === 'owned') return 'held';
    (run.kind === 'session' ? this.sessionLog : this.streamLog).forget(run.id);
    this.analysis.forget(run.id);
    if (outcome.kind === 'deleted') this.logger.log(`deleted ${run.kind} ${run.id} (${outcome.recorded.events} events logged, ${trimmed} deleted ahead of its transaction)`);
    return 'deleted';
  }
}
