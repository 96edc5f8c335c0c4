import { Inject, Injectable } from '@nestjs/common';
import { streamIds, type EndedRunStatus, type RunDeleted, type RunKind, type SessionStatus } from '@ddnn/contracts';
import { deleteRunLog, findRunDeletion, inTransaction, trimRunLog } from '@ddnn/events';
import { NODE_ID } from '../config/node-id';
import { Database } from '../database/database';
import { DATABASE_RUNTIME, type DatabaseRuntime } from '../database/database.tokens';
import { runLockKey, SessionLock } from '../orchestrator/advisory-lock';

/** What a deletion needs to know of a run's row. */
export interface DeletableRun {
  id: string;
  kind: RunKind;
  status: SessionStatus;
  modelId: string;
  name: string;
  /** Whether an operator asked for its deletion before (it may be going on, or its node died). */
  deletionRequested: boolean;
}

const RUN_COLUMNS = `s.id::text AS id, s.kind, s.status, s.model_id, r.name, s.deletion_requested_at IS NOT NULL AS requested`;
type RunRow = { id: string; kind: RunKind; status: SessionStatus; model_id: string; name: string | null; requested: boolean };
const toRun = (r: RunRow): DeletableRun => ({ id: r.id, kind: r.kind, status: r.status, modelId: r.model_id, name: r.name ?? '', deletionRequested: r.requested });

/** How the deletion's transaction ended: done, the row gone meanwhile (another deletion), or a node still owns the run. */
export type RunDeletionOutcome = { kind: 'deleted'; recorded: RunDeleted } | { kind: 'gone' } | { kind: 'owned' };

/** The I/O of deleting a run: its row (sessions, session_runs) here, its log and read models through @ddnn/events. */
@Injectable()
export class RunDeletionRepository {
  constructor(
    private readonly db: Database,
    @Inject(DATABASE_RUNTIME) private readonly runtime: DatabaseRuntime,
    @Inject(NODE_ID) private readonly node: string,
  ) {}

  async find(id: string): Promise<DeletableRun | null> {
    // The id as stored (lower case), whatever case the caller wrote it in: the log's streams and locks are named by it.
    const { rows } = await this.db.pool.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM sessions s LEFT JOIN session_runs r ON r.session_id = s.id WHERE s.id = $1`, [id]);
    return rows.length ? toRun(rows[0]) : null;
  }

  /** Runs whose deletion was asked for and is not done: going on somewhere, or left by a node that died. */
  async requested(): Promise<DeletableRun[]> {
    const { rows } = await this.db.pool.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM sessions s LEFT JOIN session_runs r ON r.session_id = s.id WHERE s.deletion_requested_at IS NOT NULL ORDER BY s.deletion_requested_at`,
    );
    return rows.map(toRun);
  }

  /** Records that the run's deletion was asked for (the first time only): its views say so, and any node resumes it. */
  async markRequested(id: string): Promise<void> {
    await this.db.pool.query('UPDATE sessions SET deletion_requested_at = coalesce(deletion_requested_at, now()) WHERE id = $1', [id]);
  }

  /**
   * The run's advisory lock, held on a connection of its own while this node deletes the run's log ahead of the
   * last transaction; null while another holds it (the node that ran it, still closing it, or another deletion).
   */
  lock(id: string): Promise<SessionLock | null> {
    return SessionLock.tryAcquire(this.runtime.url, id);
  }

  /** What was recorded when the run was deleted, or null when it never was. */
  deletion(id: string): Promise<RunDeleted | null> {
    return findRunDeletion(this.db.store, id);
  }

  /** Whether a node holds the run's advisory lock (it runs the run, is closing it, or deletes it): one pool query. */
  async owned(id: string): Promise<boolean> {
    // A transaction-level lock in a statement of its own: taken and let go at once when it is free.
    const { rows } = await this.db.pool.query<{ free: boolean }>(`SELECT pg_try_advisory_xact_lock(${runLockKey('$1')}) AS free`, [id]);
    return !rows[0].free;
  }

  /** Deletes a long run's events ahead of its transaction, in short transactions of their own (see trimRunLog). */
  trim(run: DeletableRun): Promise<number> {
    return trimRunLog(this.db.store, streamIds.run(run.kind, run.id));
  }

  /**
   * One transaction: locks the run's row, tries the run's advisory lock (a node that has ended the run may still
   * hold it for a moment, and appends nothing then; one that still holds it is not done), deletes the rest of its
   * log, its read models' rows and its row (session_runs goes with it, ON DELETE CASCADE), and records RunDeleted.
   * `status` is the ended status the caller saw: an ended run's status no longer changes.
   */
  delete(run: DeletableRun & { status: EndedRunStatus }): Promise<RunDeletionOutcome> {
    return inTransaction(this.db.pool, async (tx): Promise<RunDeletionOutcome> => {
      const { rows } = await tx.query<{ free: boolean }>(
        `SELECT pg_try_advisory_xact_lock(${runLockKey('id::text')}) AS free FROM sessions WHERE id = $1 AND kind = $2 FOR UPDATE`,
        [run.id, run.kind],
      );
      if (!rows.length) return { kind: 'gone' };
      if (!rows[0].free) return { kind: 'owned' };
      const recorded = await deleteRunLog(
        this.db.store,
        tx,
        { runId: run.id, kind: run.kind, status: run.status, modelId: run.modelId, name: run.name },
        { node: this.node },
      );
      await tx.query('DELETE FROM sessions WHERE id = $1', [run.id]);
      return { kind: 'deleted', recorded };
    });
  }
}
