import {
  sectionName,
  type DeployAck,
  type DeployMessage,
  type DeviceRole,
  type InferEdgeReply,
  type InferFeaturesReply,
  type InferReply,
  type InferRequest,
  type InferScoresReply,
  type InferSkippedReply,
  type SkipCause,
} from '@ddnn/contracts';
import { parseDeploy, parseInferRequest, ProtocolError } from '@ddnn/contracts';

/** A dataset sample whose view this camera did not capture: the device sends nothing for it (a skipped capture). */
export const NOT_CAPTURED = 'not captured';

/** One view of a dataset as a device sees it: its pixels per sample id. */
export interface ViewSource {
  /** H*W*C float32 pixels of the sample, NOT_CAPTURED, or null when the dataset has no such sample id. */
  pixels(sampleId: string): Float32Array | typeof NOT_CAPTURED | null;
}

/** The model's input for one view (height x width x channels): what a captured frame is converted to. */
export interface ViewShape {
  height: number;
  width: number;
  channels: number;
}

/** One capture: the frame as the model's input and when it was captured (epoch ms), or why it was skipped. */
export type Capture = { pixels: Float32Array; capturedAt: number } | { skipped: string };

/**
 * Where an agent's frames come from (dataset replay, a camera's folder, frames pushed by the integrator, ffmpeg):
 * asked once per scores request. A source that cannot deliver a fresh frame answers `{ skipped }`, never throws.
 */
export interface CaptureSource {
  /** Called when a device section is installed, with its input shape (a decoder can start at that size). */
  prepare?(shape: ViewShape): void;
  capture(request: { dataset: string; sampleId: string; shape: ViewShape }): Promise<Capture>;
}

/** An installed end-device section: scores for the local exit and the bit-packed features kept for later. */
export interface DeviceSectionRunner {
  infer(pixels: Float32Array): { scores: Float32Array; features: Uint8Array };
  /** The input it takes (needed by capture sources, which convert frames to it). */
  input?: ViewShape;
}
/** An installed edge section: fuses its devices' bit-packed features (null = missed). */
export interface EdgeSectionRunner {
  fuse(features: (Uint8Array | null)[]): { scores: Float32Array; features: Uint8Array };
  dispose?(): void;
}

/** How a runtime turns a deployed section into something that computes, and finds its view of a dataset. */
export interface DeviceRuntimeBindings {
  loadDeviceSection(manifest: unknown, section: string, weights: Uint8Array): DeviceSectionRunner | Promise<DeviceSectionRunner>;
  loadEdgeSection?(manifest: unknown, section: string, weights: Uint8Array): EdgeSectionRunner | Promise<EdgeSectionRunner>;
  /** The device's own view of a dataset (called once per dataset; the runtime caches the promise). */
  loadView(dataset: string, view: number): Promise<ViewSource>;
}

export interface DeviceRuntimeOptions {
  role: DeviceRole;
  /** Camera view served; required for end devices. */
  view: number | null;
  bindings: DeviceRuntimeBindings;
  /**
   * A frame source for scores requests instead of the dataset view of `bindings.loadView`. While one capture is
   * being processed, further scores requests are answered as skipped (dropped, never queued).
   */
  capture?: CaptureSource;
  /**
   * Wall clock (epoch ms): when given, scores replies carry `repliedAt` (this clock when replying, which the server
   * reads the clock's offset from), and in dataset replay `capturedAt`, the time the view was read (a capture
   * source stamps its own frames, on this clock too). Dataset replay skips only the views the dataset says were never captured, as evaluation does (a view
   * that was not captured is a device that sends nothing): research runs stay exact.
   */
  wallClock?: () => number;
  /** Features kept for the features stage, oldest dropped first. */
  maxPendingFeatures?: number;
  now?: () => number;
}

/** Float32 scores as their little-endian bytes: what travels is what is counted. */
export function scoresToBytes(scores: Float32Array): Uint8Array {
  const out = new Uint8Array(scores.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < scores.length; i++) dv.setFloat32(i * 4, scores[i], true);
  return out;
}

/** Inverse of scoresToBytes. */
export function bytesToScores(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new Error(`scores must be a multiple of 4 bytes, got ${bytes.byteLength}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = dv.getFloat32(i * 4, true);
  return out;
}

const fail = (error: string) => ({ ok: false as const, error });
const skip = (error: string, cause: SkipCause = 'source'): InferSkippedReply => ({ ok: false, skipped: true, cause, error });

/**
 * The device side of the /devices protocol, with no transport: real agents (socket.io) and the server's
 * simulated devices (in-process) run this same code, so results and logs do not depend on where a device runs.
 * Every entry point validates its payload and answers `{ ok: false, error }` instead of throwing.
 */
export class DeviceRuntime {
  private installed: { modelId: string; modelVersion: string; section: string } | null = null;
  private deviceSection: DeviceSectionRunner | null = null;
  private edgeSection: EdgeSectionRunner | null = null;
  private readonly views = new Map<string, Promise<ViewSource>>();
  private readonly pending = new Map<string, Uint8Array>();
  private readonly maxPending: number;
  private readonly now: () => number;
  private capturing = false;

  constructor(private readonly options: DeviceRuntimeOptions) {
    if (options.role === 'end-device' && (options.view === null || !Number.isInteger(options.view) || options.view < 0)) {
      throw new Error('an end device needs a camera view (an integer >= 0)');
    }
    this.maxPending = options.maxPendingFeatures ?? 4096;
    this.now = options.now ?? (() => performance.now());
  }

  /** The section currently installed, if any. */
  get model(): { modelId: string; modelVersion: string; section: string } | null {
    return this.installed;
  }

  /** Installs a model section (validated); the ack names what was installed and its size. */
  async deploy(payload: unknown): Promise<DeployAck> {
    let msg: DeployMessage;
    try {
      msg = parseDeploy(payload);
    } catch (e) {
      return fail((e as Error).message);
    }
    const manifest = msg.manifest;
    try {
      if (this.options.role === 'end-device') {
        const expected = this.options.view === null ? null : sectionName.device(this.options.view);
        if (expected === null || msg.section !== expected) return fail(`deploy: this device serves view ${this.options.view} and takes section ${expected}, not ${msg.section}`);
        this.deviceSection = await this.options.bindings.loadDeviceSection(manifest, msg.section, msg.weights);
        if (this.deviceSection.input) this.options.capture?.prepare?.(this.deviceSection.input);
      } else {
        if (!msg.section.startsWith('edge-')) return fail(`deploy: an edge node takes an edge-<name> section, not ${msg.section}`);
        const load = this.options.bindings.loadEdgeSection;
        if (!load) return fail('deploy: this runtime cannot run edge sections');
        const next = await load(manifest, msg.section, msg.weights);
        this.edgeSection?.dispose?.();
        this.edgeSection = next;
      }
    } catch (e) {
      return fail(`deploy ${msg.section}: ${(e as Error).message}`);
    }
    this.pending.clear();
    this.installed = { modelId: msg.modelId, modelVersion: msg.modelVersion, section: msg.section };
    return { ok: true, ...this.installed, bytes: msg.weights.byteLength };
  }

  /** Serves one infer request (validated): scores from the device's view, then its features, or an edge fusion. */
  async infer(payload: unknown): Promise<InferReply> {
    let req;
    try {
      req = parseInferRequest(payload);
    } catch (e) {
      return fail(e instanceof ProtocolError ? e.message : String(e));
    }
    const reply = await this.serve(req);
    // The server checks the echo: a reply meant for another sample is not counted.
    return reply.ok ? { ...reply, sampleIndex: req.sampleIndex } : reply;
  }

  private async serve(req: InferRequest): Promise<InferReply> {
    const key = `${req.sessionId}:${req.sampleIndex}`;
    switch (req.stage) {
      case 'scores':
        return this.scores(key, req.dataset, req.sampleId);
      case 'features': {
        const t0 = this.now();
        const features = this.pending.get(key);
        if (!features) return fail(`infer features: no features kept for session ${req.sessionId} sample ${req.sampleIndex} (ask for scores first)`);
        this.pending.delete(key);
        const reply: InferFeaturesReply = { ok: true, features, latencyMs: this.now() - t0 };
        return reply;
      }
      case 'edge': {
        if (!this.edgeSection) return fail('infer edge: no edge section installed');
        const t0 = this.now();
        try {
          const out = this.edgeSection.fuse(req.features);
          const reply: InferEdgeReply = { ok: true, scores: scoresToBytes(out.scores), features: out.features, latencyMs: this.now() - t0 };
          return reply;
        } catch (e) {
          return fail(`infer edge: ${(e as Error).message}`);
        }
      }
    }
  }

  private async scores(key: string, dataset: string, sampleId: string): Promise<InferScoresReply> {
    if (this.options.role !== 'end-device') return fail('infer scores: an edge node has no camera view');
    const section = this.deviceSection;
    if (!section) return fail('infer scores: no model section installed');
    if (this.options.capture) return this.captured(this.options.capture, section, key, dataset, sampleId);
    let source: ViewSource;
    try {
      source = await this.view(dataset);
    } catch (e) {
      return fail(`infer scores: cannot read view ${this.options.view} of dataset ${dataset}: ${(e as Error).message}`);
    }
    const pixels = source.pixels(sampleId);
    if (!pixels) return fail(`infer scores: dataset ${dataset} has no sample ${sampleId}`);
    if (pixels === NOT_CAPTURED) return skip(`view ${this.options.view} of sample ${sampleId} was not captured`, 'absent');
    const capturedAt = this.options.wallClock ? Math.floor(this.options.wallClock()) : undefined;
    const t0 = this.now();
    try {
      const out = section.infer(pixels);
      const latencyMs = this.now() - t0;
      this.keep(key, out.features);
      return { ok: true, scores: scoresToBytes(out.scores), latencyMs, ...(capturedAt !== undefined ? { capturedAt, repliedAt: this.wallNow() } : {}) };
    } catch (e) {
      return fail(`infer scores: ${(e as Error).message}`);
    }
  }

  private async captured(source: CaptureSource, section: DeviceSectionRunner, key: string, dataset: string, sampleId: string): Promise<InferScoresReply> {
    if (this.capturing) return skip('busy: the previous capture is still being processed (dropped, not queued)', 'busy');
    if (!section.input) return fail('infer scores: the installed section does not name its input shape');
    this.capturing = true;
    try {
      let capture: Capture;
      try {
        capture = await source.capture({ dataset, sampleId, shape: section.input });
      } catch (e) {
        // Sources answer { skipped } for what they expect; anything else is still a capture that did not happen.
        return skip(`source failed: ${(e as Error).message}`);
      }
      if ('skipped' in capture) return skip(capture.skipped);
      const t0 = this.now();
      const out = section.infer(capture.pixels);
      const latencyMs = this.now() - t0;
      this.keep(key, out.features);
      const reply: InferScoresReply = { ok: true, scores: scoresToBytes(out.scores), latencyMs, capturedAt: capture.capturedAt };
      // The clock the capture time was read on (the agent's), when it is known: the server reads its offset.
      return this.options.wallClock ? { ...reply, repliedAt: this.wallNow() } : reply;
    } catch (e) {
      return fail(`infer scores: ${(e as Error).message}`);
    } finally {
      this.capturing = false;
    }
  }

  private view(dataset: string): Promise<ViewSource> {
    let p = this.views.get(dataset);
    if (!p) {
      p = this.options.bindings.loadView(dataset, this.options.view as number);
      // A failed load is retried on the next request (the files may appear later).
      p.catch(() => this.views.delete(dataset));
      this.views.set(dataset, p);
    }
    return p;
  }

  /** The wall clock (epoch ms, whole) of dataset replay and capture sources; only called when there is one. */
  private wallNow(): number {
    return Math.floor((this.options.wallClock as () => number)());
  }

  private keep(key: string, features: Uint8Array): void {
    this.pending.delete(key);
    this.pending.set(key, features);
    while (this.pending.size > this.maxPending) {
      const oldest = this.pending.keys().next().value as string;
      this.pending.delete(oldest);
    }
  }
}
