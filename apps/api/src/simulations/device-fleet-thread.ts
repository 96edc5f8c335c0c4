import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DeviceRole } from '@ddnn/contracts';
import type { FleetReplies, FleetRequest, FleetRequests } from './device-fleet-protocol';

/** How a simulated device reaches the runtime that computes for it: in this thread, or in its fleet's thread. */
export interface DeviceHost {
  deploy(payload: unknown): Promise<unknown>;
  infer(payload: unknown): Promise<unknown>;
}

/** The thread of a fleet died: its devices stop, as devices whose host lost power would. */
export class FleetThreadExitedError extends Error {}

/**
 * One worker thread per simulated fleet, holding the fleet's DeviceRuntimes (the same code real agents run). A
 * session's devices then compute on the second core while the API's event loop runs the engine and the log, as
 * with real devices, instead of the API's one thread paying for six devices' inference. The runtimes answer
 * `{ ok: false }` for anything they cannot serve, so a call fails only when the thread itself is gone.
 */
export class DeviceFleetThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(reply: unknown): void; reject(error: Error): void }>();
  private nextId = 0;
  private outbox: FleetRequest[] = [];
  private exited: Error | null = null;
  private readonly exitListeners = new Set<(reason: string) => void>();

  /**
   * Whether the thread starts at once: its compiled script is there (a build). From TypeScript sources (jest) the
   * thread first compiles its modules through ts-node, seconds no device request's deadline allows for.
   */
  static get compiled(): boolean {
    return fs.existsSync(COMPILED_WORKER);
  }

  constructor(dataRoot: string) {
    const { script, eval: isEval } = workerScript();
    this.worker = new Worker(script, { eval: isEval, workerData: { dataRoot } });
    // The fleet never holds the process open: the API's shutdown stops its simulations, and a hard exit ends the thread.
    this.worker.unref();
    this.worker.on('message', (replies: FleetReplies) => {
      for (const m of replies) {
        const call = this.pending.get(m.id);
        if (!call) continue;
        this.pending.delete(m.id);
        if ('error' in m) call.reject(new Error(m.error));
        else call.resolve(m.reply);
      }
    });
    this.worker.on('error', (e) => this.fail(`the fleet's thread failed: ${e.message}`));
    this.worker.on('exit', (code) => this.fail(`the fleet's thread exited (code ${code})`));
  }

  /** The runtime of one device in this thread (created on its first call). */
  host(deviceId: string, role: DeviceRole, view: number | null): DeviceHost {
    return {
      deploy: (payload) => this.call({ deviceId, role, view, op: 'deploy', payload }),
      infer: (payload) => this.call({ deviceId, role, view, op: 'infer', payload }),
    };
  }

  /** Called once if the thread ends before `terminate` (with why). */
  onExit(listener: (reason: string) => void): void {
    this.exitListeners.add(listener);
  }

  /** Ends the thread; calls in flight fail. */
  async terminate(): Promise<void> {
    this.exitListeners.clear();
    this.fail('the simulation stopped');
    await this.worker.terminate();
  }

  private call(req: Omit<FleetRequest, 'id'>): Promise<unknown> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.outbox.length === 0) setImmediate(() => this.flush());
      this.outbox.push({ ...req, id });
    });
  }

  private flush(): void {
    const requests: FleetRequests = this.outbox;
    this.outbox = [];
    if (!this.exited) this.worker.postMessage(requests);
  }

  private fail(reason: string): void {
    if (this.exited) return;
    this.exited = new FleetThreadExitedError(reason);
    for (const call of this.pending.values()) call.reject(this.exited);
    this.pending.clear();
    for (const l of this.exitListeners) l(reason);
    this.exitListeners.clear();
  }
}

/**
 * The worker's script: the compiled file next to this one (a build), or, when this module runs from its
 * TypeScript source (jest), the source through ts-node with the workspace's path aliases, so tests run the thread too.
 */
const COMPILED_WORKER = path.join(__dirname, 'device-fleet.worker.js');

function workerScript(): { script: string; eval: boolean } {
  if (fs.existsSync(COMPILED_WORKER)) return { script: COMPILED_WORKER, eval: false };
  const source = path.join(__dirname, 'device-fleet.worker.ts');
  const root = path.resolve(__dirname, '../../../..');
  const tsconfig = path.join(root, 'tsconfig.base.json');
  const code = [
    `require(${JSON.stringify(path.join(root, 'node_modules', 'ts-node'))}).register({ transpileOnly: true, project: ${JSON.stringify(path.join(root, 'apps/api/tsconfig.spec.json'))} });`,
    `const { compilerOptions } = require(${JSON.stringify(tsconfig)});`,
    `require(${JSON.stringify(path.join(root, 'node_modules', 'tsconfig-paths'))}).register({ baseUrl: ${JSON.stringify(root)}, paths: compilerOptions.paths });`,
    `require(${JSON.stringify(source)});`,
  ].join('\n');
  return { script: code, eval: true };
}
