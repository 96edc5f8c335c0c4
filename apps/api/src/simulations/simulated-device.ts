import { randomUUID } from 'node:crypto';
import type { DeviceRole, SimulatedFailure, SimulatedLink } from '@ddnn/contracts';
import { type CaptureSource, DeviceRuntime, type DeviceRuntimeBindings } from '@ddnn/ddnn';
import { type DeviceEndpoint, EndpointClosedError, EndpointTimeoutError } from '../devices/transport/device-endpoint';
import { PendingCalls } from '../devices/transport/pending-calls';
import type { DeviceHost } from './device-fleet-thread';

export interface SimulatedDeviceOptions {
  deviceId: string;
  name: string;
  role: DeviceRole;
  view: number | null;
  bindings: DeviceRuntimeBindings;
  /** Where the device's runtime computes (its fleet's thread); default a DeviceRuntime in this thread on `bindings`. */
  host?: DeviceHost;
  failures: SimulatedFailure[];
  link: SimulatedLink | null;
  /** A live frame source (the moving scene) instead of the dataset view named by each request. */
  capture?: CaptureSource;
  /** Told of every frame the device scored: which run and sample it served, and when it was captured. */
  onCapture?: (capture: SimulatedCapture) => void;
}

/** A frame a simulated device captured and scored for a sample of a run. */
export interface SimulatedCapture {
  runId: string;
  sampleIndex: number;
  view: number;
  capturedAt: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Bytes a message puts on the wire: its binary attachments plus its JSON. */
export function wireBytes(value: unknown): number {
  let binary = 0;
  const json = JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof Uint8Array) {
      binary += v.byteLength;
      return 0;
    }
    return v;
  });
  return binary + (json ? Buffer.byteLength(json) : 0);
}

/**
 * An end device or edge node inside the server: the same DeviceRuntime a real agent runs, reached without
 * a socket. Link delays (latency + size / bandwidth, each way) and failures (crash, slow, flaky from a
 * given sample on) are applied here, so what a session sees is what a real device would cause.
 */
export class SimulatedDevice implements DeviceEndpoint {
  readonly kind = 'simulated' as const;
  readonly deviceId: string;
  readonly name: string;
  readonly role: DeviceRole;
  readonly view: number | null;
  /** Each simulated device object is one connection: a restarted simulation makes new ones. */
  readonly connectionId = randomUUID();
  readonly closed: Promise<string>;
  private readonly runtime: DeviceHost;
  private close!: (reason: string) => void;
  private isClosed = false;
  private readonly calls = new PendingCalls();

  constructor(private readonly options: SimulatedDeviceOptions) {
    this.deviceId = options.deviceId;
    this.name = options.name;
    this.role = options.role;
    this.view = options.view;
    this.runtime = options.host ?? new DeviceRuntime({ role: options.role, view: options.view, bindings: options.bindings, capture: options.capture });
    this.closed = new Promise((resolve) => (this.close = resolve));
  }

  get crashed(): boolean {
    return this.isClosed;
  }

  shutdown(reason: string): void {
    this.stop(reason);
  }

  /** Stops the device as a crash or shutdown would: pending and later calls fail. */
  stop(reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.close(reason);
    this.calls.close(new EndpointClosedError(`simulated device ${this.name} stopped (${reason})`));
  }

  call(event: 'deploy' | 'infer', payload: unknown, timeoutMs: number): Promise<unknown> {
    if (this.isClosed) return Promise.reject(new EndpointClosedError(`simulated device ${this.name} is stopped`));
    const timeout = { ms: timeoutMs, error: () => new EndpointTimeoutError(`simulated device ${this.name} did not answer ${event} within ${timeoutMs} ms`) };
    return this.calls.run(this.handle(event, payload, timeoutMs), timeout);
  }

  private async handle(event: 'deploy' | 'infer', payload: unknown, timeoutMs: number): Promise<unknown> {
    const failure = this.failureFor(event, payload);
    if (failure === 'crash') {
      this.stop('crash');
      return new Promise<never>(() => undefined);
    }
    if (failure === 'drop') return new Promise<never>(() => undefined);
    // Without a simulated link nothing is awaited for it (a sample makes a dozen calls).
    if (this.options.link) await this.transmit(this.options.link, payload);
    const reply = event === 'deploy' ? await this.runtime.deploy(payload) : await this.runtime.infer(payload);
    if (event === 'infer') this.reportCapture(payload, reply);
    if (failure === 'slow') await sleep(timeoutMs * 3);
    if (this.options.link) await this.transmit(this.options.link, reply);
    return reply;
  }

  private reportCapture(payload: unknown, reply: unknown): void {
    const { onCapture } = this.options;
    const r = reply as { ok?: boolean; capturedAt?: unknown; sampleIndex?: unknown };
    const p = payload as { stage?: unknown; sessionId?: unknown };
    if (!onCapture || this.view === null || !r.ok || p.stage !== 'scores' || typeof r.capturedAt !== 'number' || typeof r.sampleIndex !== 'number' || typeof p.sessionId !== 'string') return;
    onCapture({ runId: p.sessionId, sampleIndex: r.sampleIndex, view: this.view, capturedAt: r.capturedAt });
  }

  private failureFor(event: string, payload: unknown): 'crash' | 'slow' | 'drop' | null {
    if (event !== 'infer') return null;
    const sample = (payload as { sampleIndex?: unknown })?.sampleIndex;
    if (typeof sample !== 'number') return null;
    for (const f of this.options.failures) {
      if (sample < f.atSample) continue;
      if (f.kind === 'crash') return 'crash';
      if (f.kind === 'slow') return 'slow';
      // flaky: every other sample from atSample on goes unanswered
      if ((sample - f.atSample) % 2 === 1) return 'drop';
    }
    return null;
  }

  private async transmit(link: SimulatedLink, message: unknown): Promise<void> {
    const ms = link.latencyMs + (wireBytes(message) * 8) / link.bandwidthKbps;
    if (ms > 0) await sleep(ms);
  }
}
