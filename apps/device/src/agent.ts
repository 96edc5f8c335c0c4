import { io, type Socket } from 'socket.io-client';
import { DEVICES_NAMESPACE, DeviceEvents, type DeviceHandshakeAuth, handshakeRefusal, type HeartbeatMessage } from '@ddnn/contracts';
import { checkpointRuntimeBindings, DeviceRuntime, type DeviceRuntimeBindings } from '@ddnn/ddnn';
import { faultyInfer } from './faults';
import { backoffMs } from './backoff';
import { log } from './log';
import type { AgentOptions } from './options';
import { messageKind, ProblemReport, type ServedReply } from './problem';
import { provision, ProvisionRefusedError } from './provision';
import { createLiveSource, type FrameInput, type LiveSource } from './sources';
import { type AgentState, readState, writeState } from './state-file';

type Ack = (reply: unknown) => void;

export { backoffMs } from './backoff';

/** How long an agent replaced by another with its identity waits before it tries again, at first and at most. */
const REPLACED_FIRST_WAIT_MS = 30_000;
const REPLACED_MAX_WAIT_MS = 10 * 60_000;
/** A connection that lasted this long was not a fight over the identity: the next replacement starts over. */
const REPLACED_STREAK_RESET_MS = 10 * 60_000;
/** The soonest a heartbeat reporting a changed problem follows the previous heartbeat. */
const PROBLEM_BEAT_MIN_MS = 1000;

/**
 * A real device: provisions itself (or reuses its saved token), connects to /devices, installs the section
 * the server deploys and serves inference from its own view with the bit-packed kernels, through the same
 * DeviceRuntime the server's simulated devices use. Reconnects with backoff until stopped.
 */
export class DeviceAgent {
  private readonly runtime: DeviceRuntime;
  private socket?: Socket;
  private state?: AgentState;
  /** The state holds a --token the server has not accepted yet: saved at the first connection, not before. */
  private unsavedToken = false;
  private heartbeat?: NodeJS.Timeout;
  /** A heartbeat due to report a changed problem, and when the last one went. */
  private problemBeat?: NodeJS.Timeout;
  private lastBeatAt = 0;
  private retry?: NodeJS.Timeout;
  private attempt = 0;
  /** The server closed this connection for a newer one of the same device: another process runs with this identity. */
  private replaced = false;
  /** Replacements in a row (a connection that lasted REPLACED_STREAK_RESET_MS ends the streak), and when it connected. */
  private replacements = 0;
  private connectedAt = 0;
  /** Told to the server in every heartbeat, so the dashboard shows it, not only this agent's log. */
  private readonly problem: ProblemReport;
  /** The kind (its text, numbers left out) of the last skipped capture logged at info: each kind once in a row. */
  private skipKind: string | null = null;
  private stopped = false;
  private readonly connectedOnce: Promise<void>;
  /** A deliberate fault (drills only), or null for an honest device. */
  private readonly fault: ReturnType<typeof faultyInfer> | null;
  private markConnected!: () => void;
  private readonly source: LiveSource | null;

  constructor(
    private readonly options: AgentOptions,
    bindings: DeviceRuntimeBindings = checkpointRuntimeBindings({ dataRoot: options.data }),
  ) {
    const problems = new Set<string>();
    // A failing source says so once per kind of failure, not once per sample.
    const note = (message: string) => {
      const kind = messageKind(message);
      if (problems.has(kind)) return;
      problems.add(kind);
      log('warn', `source ${options.source.kind}: ${message}`);
    };
    this.source = createLiveSource(options.source, note);
    this.problem = new ProblemReport(this.sourceLabel());
    this.runtime = new DeviceRuntime({ role: options.role, view: options.view, bindings, wallClock: Date.now, ...(this.source ? { capture: this.source.capture } : {}) });
    this.connectedOnce = new Promise((r) => (this.markConnected = r));
    this.fault = options.fault ? faultyInfer(options.fault) : null;
    if (options.fault) log('warn', `fault drill: this device will ${options.fault.kind === 'garbage' ? 'answer garbage' : `crash at infer request ${options.fault.atRequest}`}`);
  }

  /** Resolves once the agent has an identity and has started connecting. */
  async start(): Promise<void> {
    await this.source?.start();
    try {
      this.state = await this.identity();
    } catch (e) {
      // Stopped while waiting for the server: a clean stop, not a failure.
      if (this.stopped) return;
      throw e;
    }
    this.connect();
  }

  /** Resolves at the first successful connection. */
  connected(): Promise<void> {
    return this.connectedOnce;
  }

  /**
   * Hands a frame to an agent on `--source push` (the embedded integrator's call): an encoded PNG/JPEG or raw
   * pixels, with its capture time in epoch ms (default now). Rejects an undecodable frame.
   */
  pushFrame(frame: FrameInput, capturedAt?: number): Promise<void> {
    if (!this.source?.push) return Promise.reject(new Error(`pushFrame needs --source push (this agent's source is ${this.options.source.kind})`));
    return this.source.push.pushFrame(frame, capturedAt);
  }

  /** Disconnects and stops retrying. */
  stop(): void {
    void this.source?.stop();
    this.stopped = true;
    clearTimeout(this.retry);
    clearInterval(this.heartbeat);
    clearTimeout(this.problemBeat);
    this.socket?.removeAllListeners();
    this.socket?.disconnect();
  }

  /**
   * The saved identity, with the token an operator gave on the command line if any, or a new one provisioned with the
   * profile key when nothing is saved. Only then: a saved token the server refuses is an operator's decision (see
   * connect_error), not a reason to provision again.
   */
  private async identity(): Promise<AgentState> {
    const o = this.options;
    const saved = await readState(o.state, o.server, o.name);
    if (o.token !== null) {
      if (!saved) {
        throw new ProvisionRefusedError(
          `--token replaces the token saved in ${o.state}, and nothing is saved there for ${o.name} on ${o.server}: provision this device with --profile-key`,
        );
      }
      this.unsavedToken = saved.token !== o.token;
      log('info', `using the token given with --token for ${o.name} (device ${saved.deviceId})`);
      return { ...saved, token: o.token };
    }
    if (saved) {
      log('info', `reusing the saved identity of ${o.name} (device ${saved.deviceId}) from ${o.state}`);
      return saved;
    }
    if (!o.profileKey) throw new ProvisionRefusedError(`no saved token in ${o.state} and no --profile-key to provision with`);
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await provision(o.server, {
          name: o.name,
          profileKey: o.profileKey,
          role: o.role,
          ...(o.view !== null ? { view: o.view } : {}),
          capabilities: { agent: 'ddnn-device', kernels: 'bit-packed', node: process.version },
        });
        const state = { server: o.server, name: o.name, deviceId: r.deviceId, token: r.token };
        await writeState(o.state, state);
        log('info', `provisioned ${o.name} as device ${r.deviceId}; token saved in ${o.state}`);
        return state;
      } catch (e) {
        if (e instanceof ProvisionRefusedError || this.stopped) throw e;
        const wait = backoffMs(attempt);
        log('warn', `cannot reach ${o.server} to provision (${(e as Error).message}); retrying in ${wait} ms`);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  private connect(): void {
    if (this.stopped || !this.state) return;
    this.socket?.removeAllListeners();
    this.socket?.disconnect();
    const socket = io(`${this.options.server}${DEVICES_NAMESPACE}`, {
      auth: { token: this.state.token, deviceId: this.state.deviceId } satisfies DeviceHandshakeAuth,
      transports: ['websocket'],
      reconnectionDelay: 500,
      reconnectionDelayMax: 10_000,
      randomizationFactor: 0.5,
    });
    this.socket = socket;
    socket.on('connect', () => {
      this.attempt = 0;
      this.replaced = false;
      this.connectedAt = Date.now();
      log('info', `connected to ${this.options.server} as ${this.options.name} (device ${this.state?.deviceId})`);
      this.saveAcceptedToken();
      this.markConnected();
      this.sendHeartbeat();
      clearInterval(this.heartbeat);
      this.heartbeat = setInterval(() => this.sendHeartbeat(), this.options.heartbeatMs);
    });
    socket.on('disconnect', (reason) => {
      clearInterval(this.heartbeat);
      log('warn', `disconnected (${reason})`);
      // socket.io reconnects by itself except when the server closed the connection on purpose.
      if (reason === 'io server disconnect') {
        if (this.replaced) this.yieldToTwin();
        else this.scheduleReconnect();
      }
    });
    socket.on('connect_error', (err) => {
      if (socket.active) {
        log('warn', `cannot connect (${err.message}); socket.io retries with backoff`);
        return;
      }
      // Refused by the server's handshake check: decide here. Only a lock is waited out; provisioning again after a
      // revocation or a deletion would undo the operator's decision (the device back, under a new id).
      const id = this.state?.deviceId;
      switch (handshakeRefusal(err.message)) {
        case 'revoked':
          this.fatal(
            this.unsavedToken
              ? `the server refused the token given with --token (or DDNN_DEVICE_TOKEN) for device ${id}: not the one POST /api/devices/${id}/rotate-token issued last. The saved token is kept`
              : `the server refused this device's token: an operator revoked or rotated it (device ${id}). ` +
                  `Start this agent with the token POST /api/devices/${id}/rotate-token issued: --token <token> or DDNN_DEVICE_TOKEN`,
          );
          return;
        case 'deleted':
          this.fatal(
            `device ${id} is not registered on ${this.options.server}: an operator deleted it. ` +
              `To bring this agent back as a new device, delete ${this.options.state} and start it with --profile-key`,
          );
          return;
        case 'unknown':
        case 'missing':
          this.fatal(`the server refused this device: ${err.message}`);
          return;
        case 'locked':
        case null:
          break;
      }
      log('warn', `the server refused the connection (${err.message})`);
      this.scheduleReconnect();
    });
    socket.on(DeviceEvents.deploy, (payload: unknown, ack?: Ack) => {
      void this.runtime.deploy(payload).then((reply) => {
        if (reply.ok) log('info', `installed ${reply.section} of model ${reply.modelId} ${reply.modelVersion} (${reply.bytes} bytes)`);
        else log('warn', `deploy refused: ${reply.error}`);
        if (typeof ack === 'function') ack(reply);
        this.sendHeartbeat();
      });
    });
    socket.on(DeviceEvents.infer, (payload: unknown, ack?: Ack) => {
      const honest = () =>
        this.runtime.infer(payload).then((reply) => {
          // A replayed dataset misses a quarter of its views, and a failing source fails every capture: a line for each
          // would drown the log. Each kind of skip is said once until a capture succeeds or another kind comes.
          if (!reply.ok && 'skipped' in reply) {
            const kind = reply.cause === 'absent' ? null : `${reply.cause}:${messageKind(reply.error)}`;
            log(kind === null || kind === this.skipKind ? 'debug' : 'info', `capture skipped: ${reply.error}`);
            if (kind !== null) this.skipKind = kind;
          } else if (!reply.ok) log('warn', `infer failed: ${reply.error}`);
          else this.skipKind = null;
          return reply;
        });
      void (this.fault ? this.fault(payload, honest) : honest()).then((answer) => {
        if (typeof ack === 'function') ack(answer);
        else log('warn', 'infer without an ack callback: reply dropped');
        const change = this.problem.observe(answer as ServedReply, this.source?.problem?.() ?? null);
        if (change) {
          log(change.problem ? 'warn' : 'info', change.log);
          this.reportProblem();
        }
      });
    });
    socket.on(DeviceEvents.error, (e: { event?: string; error?: string }) => {
      if (e?.event === 'connection' && /replaced by a newer connection/.test(String(e?.error))) {
        this.replaced = true;
        return;
      }
      log('warn', `server reports a protocol error about ${e?.event}: ${e?.error}`);
    });
  }

  /** A --token the server accepted replaces the saved one, so the next start needs no flag. */
  private saveAcceptedToken(): void {
    if (!this.unsavedToken || !this.state) return;
    this.unsavedToken = false;
    const state = this.state;
    writeState(this.options.state, state).then(
      () => log('info', `the token given with --token is saved in ${this.options.state}`),
      (e: unknown) => log('warn', `cannot save the token in ${this.options.state} (${(e as Error).message}): start with --token again`),
    );
  }

  /** Where this agent's frames come from, for its problem report. */
  private sourceLabel(): string {
    const s = this.options.source;
    return s.kind === 'dataset' ? `data folder ${this.options.data}` : `source ${s.kind}`;
  }

  /**
   * Tells the server a changed problem, at most once a second: a message that names its sample changes every sample,
   * and a heartbeat for each (dozens a second in a fast session) is what the server cuts off as a flood.
   */
  private reportProblem(): void {
    if (this.problemBeat) return;
    const wait = Math.max(0, this.lastBeatAt + PROBLEM_BEAT_MIN_MS - Date.now());
    this.problemBeat = setTimeout(() => {
      this.problemBeat = undefined;
      this.sendHeartbeat();
    }, wait);
  }

  private sendHeartbeat(): void {
    this.lastBeatAt = Date.now();
    const model = this.runtime.model;
    const hb: HeartbeatMessage = {
      at: new Date().toISOString(),
      ...(model ? { modelId: model.modelId, modelVersion: model.modelVersion } : {}),
      ...(this.problem.current ? { problem: this.problem.current } : {}),
    };
    this.socket?.emit(DeviceEvents.heartbeat, hb);
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const wait = backoffMs(this.attempt++);
    log('info', `reconnecting in ${wait} ms`);
    clearTimeout(this.retry);
    this.retry = setTimeout(() => this.connect(), wait);
  }

  /**
   * Another agent connected with this device's identity (a copied state file or token) and the server dropped this
   * connection for it. Two agents that reconnected at once took each other's place twice a second, forever, each time
   * a DeviceConnected in a log that is never pruned: the one replaced waits long, and longer each time.
   */
  private yieldToTwin(): void {
    if (Date.now() - this.connectedAt > REPLACED_STREAK_RESET_MS) this.replacements = 0;
    const wait = Math.min(REPLACED_MAX_WAIT_MS, REPLACED_FIRST_WAIT_MS * 2 ** this.replacements++);
    log(
      'error',
      `another agent connected as this device (${this.state?.deviceId}) and took its place: two agents must not share one identity ` +
        `(state file ${this.options.state}). Trying again in ${Math.round(wait / 1000)} s`,
    );
    clearTimeout(this.retry);
    this.retry = setTimeout(() => this.connect(), wait);
  }

  private fatal(message: string): void {
    log('error', message);
    this.stop();
    process.exitCode = 1;
  }
}


