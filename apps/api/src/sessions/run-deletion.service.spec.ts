import type { RunDeleted } from '@ddnn/contracts';
import type { AnalysisRepository } from '../analysis/analysis.repository';
import type { SessionLock } from '../orchestrator/advisory-lock';
import type { SessionEventLog } from '../orchestrator/session-event-log';
import type { StreamEventLog } from '../orchestrator/stream-event-log';
import type { DeletableRun, RunDeletionRepository } from './run-deletion.repository';
import { DELETIONS_AT_ONCE, RunDeletionService } from './run-deletion.service';

/** A repository of ended runs whose trims wait until the test lets them go, counting how many run at once. */
function fakeRepository(ids: string[]) {
  const runs = new Map<string, DeletableRun>(ids.map((id) => [id, { id, kind: 'stream', status: 'stopped', modelId: 'm', name: '', deletionRequested: false }]));
  const state = { trimming: 0, most: 0, trimmed: [] as string[], release: [] as (() => void)[] };
  const repo = {
    find: async (id: string) => runs.get(id) ?? null,
    deletion: async () => null,
    requested: async () => [...runs.values()].filter((r) => r.deletionRequested),
    markRequested: async (id: string) => {
      const r = runs.get(id);
      if (r) r.deletionRequested = true;
    },
    owned: async () => false,
    lock: async () => ({ release: async () => undefined }) as unknown as SessionLock,
    trim: async (run: DeletableRun) => {
      state.trimming += 1;
      state.most = Math.max(state.most, state.trimming);
      await new Promise<void>((resolve) => state.release.push(resolve));
      state.trimming -= 1;
      state.trimmed.push(run.id);
      return 0;
    },
    delete: async (run: DeletableRun) => {
      runs.delete(run.id);
      return { kind: 'deleted' as const, recorded: { runId: run.id, events: 0 } as RunDeleted };
    },
  };
  return { repo: repo as unknown as RunDeletionRepository, state, runs };
}

const forget = { forget: () => undefined };

describe('RunDeletionService', () => {
  it(`runs at most ${DELETIONS_AT_ONCE} deletions at once on a node; the others wait their turn, answered 202`, async () => {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const { repo, state, runs } = fakeRepository(ids);
    const service = new RunDeletionService(repo, forget as unknown as AnalysisRepository, forget as unknown as SessionEventLog, forget as unknown as StreamEventLog, {
      DDNN_RUN_DELETION_WAIT_MS: 20,
      DDNN_RUN_DELETION_RESUME_MS: 60_000,
    });
    expect(await Promise.all(ids.map((id) => service.delete('stream', id)))).toEqual(ids.map(() => 'deleting'));
    // Every run is marked before its 202: some node finishes it.
    expect([...runs.values()].every((r) => r.deletionRequested)).toBe(true);
    expect(state.trimming).toBe(DELETIONS_AT_ONCE);
    while (state.trimmed.length < ids.length) {
      state.release.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(state.most).toBe(DELETIONS_AT_ONCE);
    expect(runs.size).toBe(0);
    // Asked again once gone: done (the RunDeleted lookup would say so).
    (repo as unknown as { deletion: () => Promise<unknown> }).deletion = async () => ({ kind: 'stream' });
    expect(await service.delete('stream', 'a')).toBe('deleted');
  });
});
