import { ConflictException, Inject, Injectable, Logger, NotFoundException, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { RunKind } from '@ddnn/contracts';
import { AnalysisRepository } from '../analysis/analysis.repository';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { SessionEventLog } from '../orchestrator/session-event-log';
import { SessionStore } from '../orchestrator/session-store';
import { StreamEventLog } from '../orchestrator/stream-event-log';
import { RunDeletionRepository, type DeletableRun } from './run-deletion.repository';

/** What a DELETE answers: gone (204), or going on in the background (202). */
export type RunDeletionState = 'deleted' | 'deleting';

/** How one deletion job ended: done, or left to whoever holds the run's lock (another deletion; a resume retries). */
type JobOutcome = 'deleted' | 'held';

/**
 * Deletions one node runs at once; more wait their turn. Each trims on the node's pool and holds a connection of
 * its own for the run's lock: a script deleting fifty runs must not take the pool from appends and projections.
 */
export const DELETIONS_AT_ONCE = 2;

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * An operator deletes an ended run (a session or a stream) with everything derived from it: its log stream, its
 * read models' rows, its row and run metadata, this node's cached summary fold and analysis table (other nodes'
 * caches of it are never read again: every read of a run looks its row, or its log stream's version, up first).
 * What the platform keeps of it is a RunDeleted event in the `runs` stream. Alerts about it need nothing here: the
 * alert engine evaluates runs while they run, and resolves an open alert whose run left that scope as `subject-gone`.
 *
 * A weeks-long stream's log takes minutes to delete (a chunk at a time, ~18,000 events a second here), longer than
 * a request should be held open. So the request first marks the run (`deletion_requested_at`: its views show
 * `deletingSince`, and labels and edits are refused from then on), then waits DDNN_RUN_DELETION_WAIT_MS for the
 * deletion and answers 202 if it is not done, while this node goes on. A marked run is always finished: every node
 * looks for marked runs that no node holds at start-up and every DDNN_RUN_DELETION_RESUME_MS (a node that died
 * midway). A job holds the run's advisory lock while it trims the log, so one node a run deletes it, and a node
 * still closing the run (it holds the lock) is answered 409.
 */
@Injectable()
export class RunDeletionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RunDeletionService.name);
  /** This node's deletions, queued or going on, by run id. */
  private readonly jobs = new Map<string, Promise<JobOutcome>>();
  private active = 0;
  private readonly waiting: (() => void)[] = [];
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
   * being deleted) and succeed without recording it again. 'deleting': marked, and not done within
   * DDNN_RUN_DELETION_WAIT_MS; it will be.
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
    let job = this.jobs.get(run.id);
    if (!job) {
      // Held: by a deletion going on (marked), or by the node that ran it and is still letting go of it.
      if (await this.repo.owned(run.id)) {
        if (run.deletionRequested) return 'deleting';
        throw new ConflictException(`${kind} ${id} has ended but a node is still closing it: try again in a moment`);
      }
      // Marked before anything goes, and before any 202: from here on some node finishes it.
      await this.repo.markRequested(run.id);
      if (!run.deletionRequested) this.logger.log(`deleting ${kind} ${run.id}`);
      job = this.start(run);
    }
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<'waited'>((resolve) => (timer = setTimeout(() => resolve('waited'), this.config.DDNN_RUN_DELETION_WAIT_MS)));
    const outcome = await Promise.race([job, waited])
      .catch(async (e: unknown) => {
        // The job failed (the database away, say): the run is marked, and a resume finishes it once it can.
        const now = await this.repo.find(run.id);
        if (now?.deletionRequested) return 'waited' as const;
        if (!now) return 'deleted' as const;
        throw e;
      })
      .finally(() => clearTimeout(timer));
    return outcome === 'deleted' ? 'deleted' : 'deleting';
  }

  /**
   * Finishes the deletions asked for that no node is doing (their node died), and resolves once those jobs have
   * ended; never rejects.
   */
  async resume(): Promise<void> {
    const started: Promise<unknown>[] = [];
    try {
      for (const run of await this.repo.requested()) {
        if (this.stopping) break;
        if (this.jobs.has(run.id) || (await this.repo.owned(run.id))) continue;
        this.logger.log(`resuming the deletion of ${run.kind} ${run.id} (asked for earlier; its node stopped before it was done)`);
        started.push(this.start(run).catch(() => undefined));
      }
    } catch (e) {
      if (!this.stopping) this.logger.warn(`could not look for unfinished run deletions (next look retries): ${message(e)}`);
    }
    await Promise.all(started);
  }

  /** Queues a job (one a run on this node); a failure is logged here and left to the next resume. */
  private start(run: DeletableRun): Promise<JobOutcome> {
    const job = this.inTurn(() => this.deleteRun(run)).finally(() => this.jobs.delete(run.id));
    this.jobs.set(run.id, job);
    job.catch((e: unknown) => {
      if (!this.stopping) this.logger.warn(`deleting ${run.kind} ${run.id} failed (a node resumes it within ${this.config.DDNN_RUN_DELETION_RESUME_MS} ms): ${message(e)}`);
    });
    return job;
  }

  /** Runs `fn` once fewer than DELETIONS_AT_ONCE jobs run on this node. */
  private async inTurn<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active < DELETIONS_AT_ONCE) this.active += 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      // The slot passes to the next job waiting, or is freed.
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }

  private async deleteRun(run: DeletableRun): Promise<JobOutcome> {
    const status = run.status;
    if (!SessionStore.isFinal(status)) throw new Error(`${run.kind} ${run.id} is ${status}, not ended`);
    // Before any of its log goes: one deletion a run, and nothing of it while another node holds it.
    const lock = await this.repo.lock(run.id);
    if (!lock) return 'held';
    let trimmed: number;
    try {
      trimmed = await this.repo.trim(run);
    } finally {
      // The last transaction takes the lock itself (with the row's), on a connection of the pool.
      await lock.release();
    }
    const outcome = await this.repo.delete({ ...run, status });
    // Taken by another deletion between the release and the transaction: that one finishes it.
    if (outcome.kind === 'owned') return 'held';
    (run.kind === 'session' ? this.sessionLog : this.streamLog).forget(run.id);
    this.analysis.forget(run.id);
    if (outcome.kind === 'deleted') this.logger.log(`deleted ${run.kind} ${run.id} (${outcome.recorded.events} events logged, ${trimmed} deleted ahead of its transaction)`);
    return 'deleted';
  }
}
