import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Raster } from '@ddnn/datasets';
import type { Capture, CaptureSource, ViewShape } from '@ddnn/ddnn';
import { aheadOfClock, decodeFrame, toModelInput, type FrameInput } from './frame';

/** Largest request body the push endpoint reads (an encoded frame). */
export const MAX_PUSH_BYTES = 8 * 1024 * 1024;

export interface PushSourceOptions {
  /** The latest pushed frame older than this is a skipped capture. */
  maxFrameAgeMs: number;
  now?: () => number;
}

/** A valid capture time: a finite epoch-ms number between 2000 and 2100. */
function checkCapturedAt(v: number): number {
  if (!Number.isFinite(v) || v < 946_684_800_000 || v > 4_102_444_800_000) throw new Error(`capturedAt must be epoch milliseconds, got ${v}`);
  return Math.floor(v);
}

/**
 * Frames handed over by the integrator's own code: `pushFrame` when the agent is embedded, or POST /frames on a
 * localhost HTTP endpoint when it is not. Only the latest frame is kept; a capture uses it while it is fresh.
 */
export class PushSource implements CaptureSource {
  private latest: { frame: Raster; capturedAt: number } | null = null;
  private server?: http.Server;
  private readonly now: () => number;

  constructor(private readonly options: PushSourceOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Hands a frame to the agent: an encoded PNG/JPEG or raw pixels, with its capture time (epoch ms, default now).
   * Rejects a frame that cannot be decoded (and keeps the previous one).
   */
  async pushFrame(frame: FrameInput, capturedAt: number = this.now()): Promise<void> {
    const at = checkCapturedAt(capturedAt);
    const now = this.now();
    const ahead = aheadOfClock(at, now);
    if (ahead) throw new Error(`capturedAt is ${ahead}`);
    // A frame already older than the max frame age would be accepted and then never used by any capture.
    const age = now - at;
    if (age > this.options.maxFrameAgeMs) throw new Error(`capturedAt is ${Math.round(age)} ms old, older than the max frame age (${this.options.maxFrameAgeMs} ms): no capture would use it`);
    const decoded = await decodeFrame(frame);
    if (!this.latest || at >= this.latest.capturedAt) this.latest = { frame: decoded, capturedAt: at };
  }

  async capture(request: { shape: ViewShape }): Promise<Capture> {
    const latest = this.latest;
    if (!latest) return { skipped: 'nothing pushed yet' };
    const age = this.now() - latest.capturedAt;
    if (age > this.options.maxFrameAgeMs) return { skipped: `latest pushed frame is ${Math.round(age)} ms old (max ${this.options.maxFrameAgeMs} ms)` };
    return { pixels: await toModelInput(latest.frame, request.shape), capturedAt: latest.capturedAt };
  }

  /**
   * Serves POST /frames on 127.0.0.1:`port` (0 = any free port): the body is one PNG or JPEG (at most
   * MAX_PUSH_BYTES), the optional header `x-captured-at` its capture time in epoch ms. Answers 204, or 4xx
   * with a one-line reason. Resolves with the bound port.
   */
  listen(port: number): Promise<number> {
    const server = http.createServer((req, res) => this.handle(req, res));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
  }

  /** Stops the endpoint. */
  close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const answer = (status: number, message?: string) => {
      if (res.headersSent) return;
      res.writeHead(status, message ? { 'content-type': 'text/plain; charset=utf-8', connection: 'close' } : { connection: 'close' });
      res.end(message ? `${message}\n` : undefined);
    };
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/frames') return answer(404, 'not found: POST frames to /frames');
    if (req.method !== 'POST') return answer(405, 'method not allowed: POST a PNG or JPEG to /frames');
    const header = req.headers['x-captured-at'];
    let capturedAt = this.now();
    if (header !== undefined) {
      const text = Array.isArray(header) ? header[0] : header;
      capturedAt = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
      if (!Number.isFinite(capturedAt)) return answer(400, `x-captured-at must be epoch milliseconds, got ${JSON.stringify(text.slice(0, 40))}`);
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_PUSH_BYTES) {
      answer(413, `frame larger than ${MAX_PUSH_BYTES} bytes`);
      req.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.byteLength;
      if (size > MAX_PUSH_BYTES) {
        refused = true;
        answer(413, `frame larger than ${MAX_PUSH_BYTES} bytes`);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      if (refused) return;
      this.pushFrame(Buffer.concat(chunks), capturedAt).then(
        () => answer(204),
        (e: unknown) => answer(400, `not a usable frame: ${(e as Error).message}`.slice(0, 200)),
      );
    });
  }
}
