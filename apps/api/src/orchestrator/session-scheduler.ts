import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { nodeId } from '../config/node-id';
import { DATABASE_RUNTIME, type DatabaseRuntime } from '../database/database.tokens';
import { DevicesService } from '../devices/devices.service';
import { DeviceTransport } from '../devices/transport/device-transport';
import { type DeployOutcome, ModelDeployer } from '../models/model-deployer';
import { SessionLock } from './advisory-lock';
import { DatasetCatalog } from './dataset-catalog';
import { ModelCatalog } from './model-catalog';
import { SessionEventLog } from './session-event-log';
import { runSession, type RunnerDeps, type RunStats } from './session-runner';
import { SessionStore, type SessionRecord } from './session-store';
import { StreamEventLog } from './stream-event-log';
import { runStream, type StreamRunnerDeps } from './stream-runner';

/** How long shutdown waits for this node's session runs to wind down. */
const SHUTDOWN_WAIT_MS = 5_000;

/**
 * Picks up runs no node is running (new ones, or ones whose node died) and runs them here: research sessions
 * to their end, production streams until stopped. A run belongs to the node holding its advisory lock;
 * everything else about it is in Postgres, so any node can take it over and resume from its log.
 */
@Injectable()
export class SessionScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SessionScheduler.name);
  private readonly running = new Map<string, Promise<RunStats>>();
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | null = null;
  private rescan = false;
  private shuttingDown = false;
  /** Streams' halts to call at shutdown (they watch for their stop rather than poll it often: see watchStop). */
  private readonly haltOnShutdown = new Set<() => void>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DATABASE_RUNTIME) private readonly db: DatabaseRuntime,
    private readonly store: SessionStore,
    private readonly log: SessionEventLog,
    private readonly models: ModelCatalog,
    private readonly datasets: DatasetCatalog,
    private readonly deployer: ModelDeployer,
    private readonly transport: DeviceTransport,
    private readonly devices: DevicesService,
    private readonly streamLog: StreamEventLog,
  ) {}

  /** This node's name in session ownership (the same DDNN_NODE_ID the device events carry). */
  get node(): string {
    return nodeId(this.config);
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.wake(), this.config.DDNN_SESSION_POLL_MS);
    this.wake();
  }

  /** Looks for sessions to run now (after a create, or on the poll). */
  wake(): void {
    if (this.shuttingDown) return;
    if (this.scanning) {
      this.rescan = true;
      return;
    }
    this.scanning = this.scan()
      .catch((e: unknown) => this.logger.warn(`session scan failed: ${e instanceof Error ? e.message : e}`))
      .finally(() => {
        this.scanning = null;
        if (this.rescan) {
          this.rescan = false;
          this.wake();
        }
      });
  }

  private async scan(): Promise<void> {
    for (const id of await this.store.unfinishedIds()) {
      if (this.shuttingDown || this.running.size >= this.config.DDNN_MAX_SESSIONS) return;
      if (this.running.has(id)) continue;
      const lock = await SessionLock.tryAcquire(this.db.url, id);
      if (!lock) continue;
      const record = await this.store.record(id);
      if (!record || (record.status !== 'pending' && record.status !== 'running') || record.stopRequested) {
        if (record && record.stopRequested && record.status === 'running') {
          await this.store.finish(id, 'stopped', record.samplesDone);
        }
        await lock.release();
        continue;
      }
      // The run's fence before anything reads its log: a previous owner whose lock connection ended while it ran on
      // may still be appending; taking the fence waits for those appends and refuses the ones after it.
      const fence = await (record.kind === 'stream' ? this.streamLog : this.log).takeOver(id).catch(async (e: unknown) => {
        await lock.release();
        throw e;
      });
      this.logger.log(`${record.kind} ${id}: running on ${this.node}`);
      const run = this.start(record, lock, fence)
        .then((stats) => {
          // A run this node lets go of as it shuts down ends here as `lost`, like one another node took over; said
          // as what it is, so a clean Ctrl-C does not read like a failure.
          const ended = stats.status === 'lost' && this.shuttingDown ? 'handed back at shutdown (the next node to run resumes it)' : stats.status;
          // The counts are this node's stint's: a run resumed after a restart or a takeover has more in its log.
          const line =
            `${record.kind} ${id}: ${ended}, ${stats.samples} samples and ${stats.events} events in ${Math.round(stats.durationMs)} ms on this node` +
            (stats.error ? ` (${stats.error})` : '');
          // Failing, or lost while this node runs on (its lock's connection dropped, another node took it), is news.
          if (stats.status === 'failed' || (stats.status === 'lost' && !this.shuttingDown)) this.logger.warn(line);
          else this.logger.log(line);
          return stats;
        })
        .finally(async () => {
          await lock.release();
          this.running.delete(id);
          this.wake();
        });
      this.running.set(id, run);
    }
  }

  private start(record: SessionRecord, lock: SessionLock, fence: number): Promise<RunStats> {
    return record.kind === 'stream' ? runStream(record.id, record.spec, this.streamDeps(lock, fence)) : runSession(record.id, record.spec, this.deps(lock, fence));
  }

  private streamDeps(lock: SessionLock, fence: number): StreamRunnerDeps {
    const common = this.deps(lock, fence);
    return {
      requester: common.requester,
      loadModel: common.loadModel,
      loadReplay: async (replay) => {
        const data = await this.datasets.samples(replay);
        return { classes: data.classes, sampleIds: data.samples.map((s) => s.sampleId) };
      },
      deploy: async (spec, model) => failedDeploys(await this.deployer.ensure(spec.topology, model.modelId)),
      sink: (id) => this.streamLog.sink(id, fence),
      logged: (id) => this.streamLog.logged(id),
      setProgress: common.setProgress,
      markRunning: (id) => this.store.markRunning(id, this.node, null),
      shouldStop: common.shouldStop,
      watchStop: async (id, onHalt) => {
        const cancel = await lock.watchStop(
          () => onHalt('stop'),
          () => onHalt('lost'),
        );
        const lost = () => onHalt('lost');
        this.haltOnShutdown.add(lost);
        if (this.shuttingDown) lost();
        return () => {
          cancel();
          this.haltOnShutdown.delete(lost);
        };
      },
      finish: (id, status, n, error, stats) => this.store.finish(id, status, n, error, stats),
      connectedDevices: common.connectedDevices,
      connectionOf: common.connectionOf,
      unregisteredDevices: common.unregisteredDevices,
      deviceWaitMs: common.deviceWaitMs,
      window: common.window,
      captureToleranceMs: this.config.DDNN_CAPTURE_TOLERANCE_MS,
      log: common.log,
      warn: common.warn,
    };
  }

  private deps(lock: SessionLock, fence: number): RunnerDeps {
    return {
      requester: this.transport,
      loadModel: (id) => this.models.load(id),
      loadSamples: (spec) => this.datasets.samples(spec),
      deploy: async (spec, model) => failedDeploys(await this.deployer.ensure(spec.topology, model.modelId)),
      sink: (id) => this.log.sink(id, fence),
      logged: (id) => this.log.logged(id),
      setProgress: (id, n) => this.store.setProgress(id, n),
      markRunning: (id, n) => this.store.markRunning(id, this.node, n),
      shouldStop: async (id) => {
        if (this.shuttingDown) return 'lost';
        try {
          return (await this.store.stopRequested(id, lock.connection)) ? 'stop' : null;
        } catch (e) {
          // No answer: the lock is lost with its connection; otherwise this poll failed and the next one asks again.
          if (!(await lock.stillHeld())) return 'lost';
          throw e;
        }
      },
      finish: (id, status, n, error, stats) => this.store.finish(id, status, n, error, stats),
      connectedDevices: async () => (await this.transport.connectedDevices()).map((d) => ({ deviceId: d.deviceId, connectionId: d.connectionId })),
      connectionOf: (id) => this.transport.connectionOf(id),
      unregisteredDevices: (ids) => this.devices.unregistered(ids),
      deviceWaitMs: this.config.DDNN_DEVICE_WAIT_MS,
      window: this.config.DDNN_SESSION_WINDOW,
      log: (m) => this.logger.log(m),
      warn: (m) => this.logger.warn(m),
    };
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const halt of this.haltOnShutdown) halt();
    clearInterval(this.timer);
    await this.scanning;
    // Runs stop starting samples within a poll and finish the ones in flight; what they leave undone another
    // node (or the next start) resumes from the log, so shutdown waits a bounded time for them, not for ever.
    const settled = Promise.allSettled([...this.running.values()]);
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), SHUTDOWN_WAIT_MS)));
    const outcome = await Promise.race([settled, bound]);
    clearTimeout(timer);
    if (outcome === 'timeout') this.logger.warn(`${this.running.size} session run(s) still busy after ${SHUTDOWN_WAIT_MS} ms: leaving them to be resumed`);
  }
}

/** The devices a deploy reached and that did not take their section (not connected: the run waits for them anyway). */
function failedDeploys(outcomes: DeployOutcome[]): string[] {
  return outcomes.filter((o) => !o.ok && o.error !== 'not connected').map((o) => o.deviceId);
}
