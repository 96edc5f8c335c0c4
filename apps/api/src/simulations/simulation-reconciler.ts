import { ConflictException, Inject, Injectable, Logger } from '@nestjs/common';
import type { CreateSimulationRequest, SimulationView } from '@ddnn/contracts';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { nodeId } from '../config/node-id';
import { NodePresence } from '../database/node-presence';
import { DATABASE_RUNTIME, type DatabaseRuntime } from '../database/database.tokens';
import { type Claim, lockConnectionName, SimulationClaims } from './simulation-claims';
import { type SimulationRecord, SimulationRecords } from './simulation-records';

/**
 * What the reconciler needs of the simulations running on this node. SimulationsService gives it (`serve`): the
 * service depends on the reconciler, never the other way, so Nest sees no cycle.
 */
export interface SimulationRunner {
  /** The recorded simulations running on this node. */
  recordedHere(): string[];
  runs(id: string): boolean;
  /** Starts a recorded simulation here from its record: its devices by index where free, bound to `sessionId`. */
  start(request: CreateSimulationRequest, opts: { id: string; reuse: string[]; sessionId: string | null }): Promise<SimulationView>;
  /** Stops it here, its record kept. `quiet`: another node drives its devices now (or may), so nothing is written for them. */
  halt(id: string, quiet?: boolean): Promise<void>;
  /** Deletes simulated devices (their events stay) that nothing on this node drives. */
  removeDevices(ids: string[], reason: string): Promise<void>;
}

/** How long a recorded simulation that failed to start again waits before the next attempt. */
const RETRY_MS = 60_000;

/**
 * Keeps recorded simulations (`POST /api/simulations`) across processes: the `simulations` table's writes and the
 * advisory locks that say which node runs each (SimulationClaims), the round that starts again those no node runs,
 * and the check that this node still holds the locks of those it runs. Running them is SimulationsService's.
 */
@Injectable()
export class SimulationReconciler {
  private readonly logger = new Logger(SimulationReconciler.name);
  private readonly claims: SimulationClaims;
  private readonly node: string;
  /**
   * How long another node's simulation must be seen unlocked before this node claims it while its node may be alive
   * (see `due`): that node re-claims its own at its next poll, and is given two.
   */
  private readonly graceMs: number;
  private readonly pollMs: number;
  private runner: SimulationRunner | null = null;
  private poll: NodeJS.Timeout | undefined;
  private reconciling: Promise<void> | null = null;
  /** Recorded simulations that failed to start here: not before this time again. */
  private readonly retryAt = new Map<string, number>();
  /** Other nodes' simulations this node found unlocked while their node may be alive, since when (reset when seen locked). */
  private readonly unlockedSince = new Map<string, number>();
  /**
   * Simulations a create, end or DELETE is busy with (its last one's promise): no round claims, starts, halts or
   * forgets them meanwhile, and a second one waits for the first (see `exclusive`).
   */
  private readonly busy = new Map<string, Promise<unknown>>();
  /** Shutting down: nothing starts, nothing is claimed. */
  private closed = false;
  private lastWarnAt = 0;

  constructor(
    private readonly records: SimulationRecords,
    private readonly presence: NodePresence,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(DATABASE_RUNTIME) db: DatabaseRuntime,
  ) {
    this.node = nodeId(config);
    this.graceMs = 2 * config.DDNN_SESSION_POLL_MS;
    this.pollMs = config.DDNN_SESSION_POLL_MS;
    this.claims = new SimulationClaims(db.url, lockConnectionName(this.node));
  }

  /** The node's running simulations (SimulationsService, once, from its constructor). */
  serve(runner: SimulationRunner): void {
    this.runner = runner;
  }

  /** True once the node shuts down: a create is refused (503), nothing is claimed. */
  get closing(): boolean {
    return this.closed;
  }

  /** The first round (recorded simulations left by this node's last run, or by a node that died), then one each poll. */
  async open(): Promise<void> {
    await this.reconcile();
    this.poll = setInterval(() => void this.reconcile(), this.pollMs);
    this.poll.unref();
  }

  /** No round after the one under way; waits for it and for the create, end or DELETE under way. */
  async drain(): Promise<void> {
    this.closed = true;
    clearInterval(this.poll);
    await this.reconciling;
    // What a create, end or DELETE under way starts is halted after this, not left running with its lock gone.
    await Promise.all(this.busy.values());
  }

  /** Lets every lock of this node go (at shutdown, once its simulations stopped): the next start, or another node, starts them again. */
  async close(): Promise<void> {
    await this.claims.close();
  }

  /**
   * Runs `fn` alone for simulation `id` on this node: after the create, end or DELETE of it under way, and (`afterRound`)
   * after the round under way, which may be starting it; the rounds after skip it until `fn` is done.
   */
  exclusive<T>(id: string, fn: () => Promise<T>, afterRound = true): Promise<T> {
    const before = this.busy.get(id);
    const run = (async () => {
      await before;
      if (afterRound) await this.reconciling;
      return fn();
    })();
    const done = run.catch(() => undefined);
    this.busy.set(id, done);
    void done.then(() => {
      if (this.busy.get(id) === done) this.busy.delete(id);
    });
    return run;
  }

  /**
   * A new recorded simulation: claimed before it is recorded (another node's poll never sees it unclaimed), started by
   * `start`, then recorded. `undo` stops what `start` started when the record cannot be written; the claim goes then.
   */
  async create(id: string, request: CreateSimulationRequest, start: () => Promise<SimulationView>, undo: () => Promise<void>): Promise<SimulationView> {
    // Held already: this node has it.
    const claim = await this.claims.tryClaim(id);
    if (claim !== 'acquired') throw new ConflictException(claim === 'held' ? `simulation ${id} already runs on this node` : `simulation ${id} runs on another node`);
    try {
      const view = await start();
      try {
        await this.records.insert({ id, request, deviceIds: view.devices.map((d) => d.deviceId), persist: view.persist, sessionId: null, node: this.node });
      } catch (e) {
        await undo();
        throw e;
      }
      return view;
    } catch (e) {
      await this.claims.release(id);
      throw e;
    }
  }

  /** Records the run a simulation ends with (null: none). */
  async bind(id: string, sessionId: string | null): Promise<void> {
    await this.records.bind(id, sessionId);
  }

  /** A recorded simulation stopped for good: its record and its lock go. */
  async forget(id: string): Promise<void> {
    await this.records.delete(id);
    this.retryAt.delete(id);
    this.unlockedSince.delete(id);
    await this.claims.release(id);
  }

  /**
   * Forgets a recorded simulation this node does not run (DELETE on any node): only while no node holds it (its node
   * died, and no node has started it again yet); one another node runs is a 409 naming that node.
   */
  async forgetUnrun(r: SimulationRecord): Promise<void> {
    // A node whose lock connection is down finds it forgotten when it claims it again, and stops it (`checkClaims`).
    if ((await this.claims.tryClaim(r.id)) === 'refused') throw new ConflictException(`simulation ${r.id} runs on node ${r.node ?? '(unknown)'}: stop it there`);
    await this.forget(r.id);
  }

  /**
   * Recorded simulations that no node runs (this node's last run ended, or their node died: their locks went with
   * it), each claimed by one node only, and the claims this node's lock connection lost. A persisted one starts again
   * with the same devices (a device deleted or locked since is replaced), link model and failures, and its scene
   * cameras' knobs at rest. One that was not persisted, that no queued or running run uses, was only ever going to
   * have its devices deleted (by its session's end, or left as rows nothing will drive again, offline and alerting):
   * its devices are deleted now, and its record. One that a run still uses starts again, bound to that run, so the
   * run resumed after the crash gets its devices back, and ends with it.
   *
   * Owners first: a database restart drops every lock at once, and the node that ran a simulation takes it back at its
   * next poll. This node's own records are claimed at once; another node's at once only when that node is gone (`due`),
   * else once this node has seen it unlocked for two polls: the two never both drive it because this node's poll came
   * first.
   */
  private reconcile(): Promise<void> {
    this.reconciling ??= this.reconcileNow()
      .catch((e: unknown) => {
        // Once a minute at most: through a database outage every poll fails the same way.
        if (Date.now() - this.lastWarnAt < 60_000) return;
        this.lastWarnAt = Date.now();
        this.logger.warn(`looking for simulations to start again: ${(e as Error).message}`);
      })
      .finally(() => (this.reconciling = null));
    return this.reconciling;
  }

  private async reconcileNow(): Promise<void> {
    if (this.closed) return;
    const runner = this.running();
    await this.checkClaims(runner);
    // Started here since the list was read, or a create, end or DELETE has it: not a round's to start. A lock this node
    // held already (it is reentrant, so Postgres says yes again) is one of those.
    const open = (r: SimulationRecord) => (this.retryAt.get(r.id) ?? 0) <= Date.now() && !this.busy.has(r.id) && !runner.runs(r.id);
    const listed = await this.records.others(runner.recordedHere());
    const theirs = listed.filter((r) => r.node !== null && r.node !== this.node);
    const due = theirs.length ? await this.due(theirs) : new Set<string>();
    for (const r of [...listed.filter((x) => !theirs.includes(x)), ...theirs.filter((x) => due.has(x.id))]) {
      if (this.closed) return;
      if (!open(r)) continue;
      if ((await this.claims.tryClaim(r.id)) !== 'acquired') continue;
      this.unlockedSince.delete(r.id);
      try {
        await this.adopt(runner, r.id);
      } catch (e) {
        this.retryAt.set(r.id, Date.now() + RETRY_MS);
        await runner.halt(r.id);
        await this.claims.release(r.id);
        this.logger.error(`simulation ${r.id} could not start again (next attempt in ${RETRY_MS / 1000} s): ${(e as Error).message}`);
      }
    }
  }

  /**
   * Of other nodes' records, those this node may claim now: unlocked, and their node gone (not present: NodePresence,
   * and no sign that every lock went at once), or unlocked for the grace period as far as this node saw. Without taking
   * a lock (a claim would refuse the owner taking its own back).
   */
  private async due(theirs: SimulationRecord[]): Promise<Set<string>> {
    const [locked, { nodes: present, settled }] = await Promise.all([this.claims.survey(theirs.map((r) => r.id)), this.presence.present(theirs.map((r) => r.node as string))]);
    // The server restarted, or this node's own presence or lock connection was lost and opened again: every node's may
    // have gone at once, so a node absent now may only not have reconnected yet.
    const allLost = !settled || this.claims.reopenedWithin(this.graceMs);
    const now = Date.now();
    const due = new Set<string>();
    const waiting = new Map<string, number>();
    for (const r of theirs) {
      if (locked.has(r.id)) continue;
      if (!allLost && !present.has(r.node as string)) due.add(r.id);
      else waiting.set(r.id, this.unlockedSince.get(r.id) ?? now);
    }
    // Locked again, or gone from the list: seen unlocked again later, it waits again from then.
    this.unlockedSince.clear();
    for (const [id, since] of waiting) {
      this.unlockedSince.set(id, since);
      if (now - since >= this.graceMs) due.add(id);
    }
    return due;
  }

  /**
   * The recorded simulations this node runs whose lock its connection does not hold now, as the server says (the
   * connection dropped, was cut, or went half-open after a failover): each is claimed again, or stopped here without a
   * word for its devices (another node runs them, or may: a lock this node cannot ask about is not taken as held).
   * One query when all is well; none on a node that runs no recorded simulation.
   */
  private async checkClaims(runner: SimulationRunner): Promise<void> {
    const mine = runner.recordedHere().filter((id) => !this.busy.has(id));
    // A connect that failed once fails the others too: not tried again for each (5 s apiece against a host gone).
    let failed: Error | null = null;
    for (const id of await this.claims.verify(mine)) {
      if (this.closed) return;
      if (this.busy.has(id) || !runner.runs(id)) continue;
      const claim: Claim | Error = failed ?? (await this.claims.tryClaim(id).catch((e: Error) => e));
      if (claim instanceof Error) failed = claim;
      if (claim instanceof Error || claim === 'refused') {
        this.logger.warn(
          `simulation ${id}: this node's lock on it is gone and ${claim instanceof Error ? `could not be taken again (${claim.message})` : 'another node holds it now'}; stopping it here (it starts again wherever its lock is taken next)`,
        );
        await runner.halt(id, true);
        continue;
      }
      // While the lock was not held, a DELETE on another node may have forgotten it, or another node started it.
      const r = await this.records.get(id).catch((e: Error) => e);
      if (r === null) {
        this.logger.log(`simulation ${id} was deleted on another node while this node's lock on it was lost: stopped`);
        await runner.halt(id);
        this.retryAt.delete(id);
        await this.claims.release(id);
      } else if (r instanceof Error || r.node !== this.node) {
        // Unknown, or another node's since: let go, for a round (here or there) to start it again from its record.
        this.logger.warn(`simulation ${id}: ${r instanceof Error ? `its record could not be read again (${r.message})` : `node ${r.node ?? '(unknown)'} started it meanwhile`}; stopping it here`);
        await runner.halt(id, true);
        await this.claims.release(id);
      } else {
        this.logger.log(`simulation ${id}: this node's lock on it was lost, and is taken again`);
      }
    }
  }

  /** A recorded simulation this node just claimed: started again here, or its devices deleted. */
  private async adopt(runner: SimulationRunner, id: string): Promise<void> {
    // Read again under the lock: a DELETE on the node that ran it may have forgotten it since the list was read.
    const r = await this.records.get(id);
    if (!r) return void (await this.claims.release(id));
    const runs = await this.records.runsUsing(r);
    if (!r.persist && runs.length === 0) {
      await runner.removeDevices(r.deviceIds, 'simulation ended with its node');
      await this.forget(id);
      this.logger.log(`simulation ${id} (not persisted) ended with the node that ran it (${r.node ?? 'unknown'}): its ${r.deviceIds.length} devices deleted`);
      return;
    }
    // Its binding was recorded without waiting (`bindToSession`), so a crash may have lost it: a run using its devices
    // takes its place, so that the simulation ends with a run again.
    const sessionId = r.sessionId !== null && runs.includes(r.sessionId) ? r.sessionId : (runs[0] ?? null);
    const view = await runner.start(r.request, { reuse: r.deviceIds, id, sessionId });
    const deviceIds = view.devices.map((d) => d.deviceId);
    await this.records.restarted(id, deviceIds, this.node, sessionId);
    this.retryAt.delete(id);
    const replaced = deviceIds.filter((d, i) => d !== r.deviceIds[i]).length;
    this.logger.log(`simulation ${id} started again on ${this.node} (it ran on ${r.node ?? 'unknown'}): ${deviceIds.length} devices${replaced ? `, ${replaced} replaced (deleted or locked since)` : ''}`);
  }

  private running(): SimulationRunner {
    if (!this.runner) throw new Error('no simulations service serves the reconciler');
    return this.runner;
  }
}
