import { ConflictException, Injectable, Logger, NotFoundException } from '@nestjs/common';
import type { RunKind } from '@ddnn/contracts';
import { AnalysisRepository } from '../analysis/analysis.repository';
import { SessionEventLog } from '../orchestrator/session-event-log';
import { SessionStore } from '../orchestrator/session-store';
import { StreamEventLog } from '../orchestrator/stream-event-log';
import { RunDeletionRepository } from './run-deletion.repository';

/**
 * An operator deletes an ended run (a session or a stream) with everything derived from it: its log stream, its
 * read models' rows, its row and run metadata, this node's cached summary fold and analysis table (other nodes'
 * caches of it are never read again: every read of a run looks its row, or its log stream's version, up first).
 * What the platform keeps of it is a RunDeleted event in the `runs` stream. Alerts about it need nothing here: the
 * alert engine evaluates runs while they run, and resolves an open alert whose run left that scope as `subject-gone`.
 */
@Injectable()
export class RunDeletionService {
  private readonly logger = new Logger(RunDeletionService.name);

  constructor(
    private readonly repo: RunDeletionRepository,
    private readonly analysis: AnalysisRepository,
    private readonly sessionLog: SessionEventLog,
    private readonly streamLog: StreamEventLog,
  ) {}

  /**
   * Deletes the run of this kind: 404 when there is none, 409 while it is queued or running (or a node is still
   * wrapping it up). A retry after an answer that was lost, or two deletions at once, find the run deleted and
   * succeed without recording it again.
   */
  async delete(kind: RunKind, id: string): Promise<void> {
    const run = await this.repo.find(id);
    if (!run || run.kind !== kind) {
      if ((await this.repo.deletion(id.toLowerCase()))?.kind === kind) return;
      throw new NotFoundException(`no ${kind} ${id}`);
    }
    const status = run.status;
    if (!SessionStore.isFinal(status)) {
      throw new ConflictException(`${kind} ${id} is ${status}: stop it first (POST /api/${kind}s/${id}/stop), then delete it once it has stopped`);
    }
    const closing = () => new ConflictException(`${kind} ${id} has ended but a node is still closing it: try again in a moment`);
    // Before any of its log goes (the transaction checks again): a node that still holds the run may still append.
    if (await this.repo.owned(run.id)) throw closing();
    const trimmed = await this.repo.trim(run);
    const outcome = await this.repo.delete({ ...run, status });
    if (outcome.kind === 'owned') throw closing();
    (kind === 'session' ? this.sessionLog : this.streamLog).forget(run.id);
    this.analysis.forget(run.id);
    if (outcome.kind === 'deleted') this.logger.log(`deleted ${kind} ${run.id} (${outcome.recorded.events} events logged, ${trimmed} deleted ahead of its transaction)`);
  }
}
