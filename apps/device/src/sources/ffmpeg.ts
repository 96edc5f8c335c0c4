import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Raster } from '@ddnn/datasets';
import type { Capture, CaptureSource, ViewShape } from '@ddnn/ddnn';
import { backoffMs } from '../backoff';
import { toModelInput } from './frame';

export const DEFAULT_FFMPEG = '/usr/bin/ffmpeg';

export interface FfmpegSourceOptions {
  /** A video file or a stream URL (rtsp://, http://, ...). */
  url: string;
  /** Frames per second ffmpeg delivers. */
  fps: number;
  maxFrameAgeMs: number;
  /** The ffmpeg binary (default /usr/bin/ffmpeg). */
  binary?: string;
  now?: () => number;
  /** Told when ffmpeg starts, exits or cannot be run. */
  onNote?: (message: string) => void;
}

const isUrl = (s: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s);

/**
 * Frames decoded by an ffmpeg process: ffmpeg scales to the model's view size at the configured rate and writes
 * raw rgb24 frames on stdout; the latest complete frame is kept with the time it arrived. A file is played at its
 * own speed (-re) and looped by ffmpeg itself (-stream_loop): started over by a new process at each end, it left
 * a gap of the restart's backoff and start-up, skipped captures every loop. When ffmpeg exits it is restarted with
 * backoff; captures while it is down, or whose latest frame is too old, are skipped with the reason.
 */
export class FfmpegSource implements CaptureSource {
  private shape: ViewShape | null = null;
  private child?: ChildProcessByStdio<null, Readable, Readable>;
  private latest: { frame: Raster; capturedAt: number } | null = null;
  private problem = 'ffmpeg not started yet (no model section installed)';
  private attempt = 0;
  private retry?: NodeJS.Timeout;
  private stopped = false;
  private readonly now: () => number;
  private readonly binary: string;

  constructor(private readonly options: FfmpegSourceOptions) {
    this.now = options.now ?? Date.now;
    this.binary = options.binary ?? DEFAULT_FFMPEG;
  }

  /** Starts (or restarts) ffmpeg at the installed section's input size. */
  prepare(shape: ViewShape): void {
    if (this.shape && this.shape.width === shape.width && this.shape.height === shape.height && this.child) return;
    this.shape = { width: shape.width, height: shape.height, channels: 3 };
    this.attempt = 0;
    this.restart();
  }

  async capture(request: { shape: ViewShape }): Promise<Capture> {
    if (!this.shape || this.shape.width !== request.shape.width || this.shape.height !== request.shape.height) this.prepare(request.shape);
    const latest = this.latest;
    if (!latest) return { skipped: this.problem };
    const age = this.now() - latest.capturedAt;
    if (age > this.options.maxFrameAgeMs) return { skipped: `latest ffmpeg frame is ${Math.round(age)} ms old (max ${this.options.maxFrameAgeMs} ms): ${this.problem}` };
    return { pixels: await toModelInput(latest.frame, request.shape), capturedAt: latest.capturedAt };
  }

  /** Stops ffmpeg and does not restart it. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.child?.kill('SIGKILL');
    this.child = undefined;
  }

  private restart(): void {
    clearTimeout(this.retry);
    const old = this.child;
    this.child = undefined;
    old?.removeAllListeners();
    old?.kill('SIGKILL');
    if (this.stopped || !this.shape) return;
    const { width, height } = this.shape;
    const args = [
      '-hide_banner', '-loglevel', 'error', '-nostdin',
      ...(isUrl(this.options.url) ? [] : ['-re', '-stream_loop', '-1']),
      '-i', this.options.url,
      '-an', '-vf', `fps=${this.options.fps},scale=${width}:${height}`,
      '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
    ];
    const child = spawn(this.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.problem = 'ffmpeg started, no frame yet';
    const frameBytes = width * height * 3;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      pending.push(chunk);
      pendingBytes += chunk.byteLength;
      if (pendingBytes < frameBytes) return;
      const all = Buffer.concat(pending);
      const whole = Math.floor(all.byteLength / frameBytes);
      const start = (whole - 1) * frameBytes;
      // Only the newest complete frame matters: older ones in the same chunk are dropped, as a live camera would.
      const data = new Uint8Array(all.subarray(start, start + frameBytes));
      this.latest = { frame: { width, height, channels: 3, data }, capturedAt: Math.floor(this.now()) };
      this.attempt = 0;
      const rest = all.subarray(whole * frameBytes);
      pending = rest.byteLength ? [rest] : [];
      pendingBytes = rest.byteLength;
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString('utf8')).slice(-400);
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      this.problem =
        e.code === 'ENOENT'
          ? `ffmpeg not found at ${this.binary} (install Debian's ffmpeg package, or pass --ffmpeg-path)`
          : `ffmpeg could not be started (${e.message})`;
      this.options.onNote?.(this.problem);
      this.scheduleRestart(child);
    });
    child.on('close', (code, signal) => {
      if (this.child !== child) return;
      const why = stderr.trim().split('\n').pop() ?? '';
      if (!this.problem.startsWith('ffmpeg not found') && !this.problem.startsWith('ffmpeg could not')) {
        this.problem = `ffmpeg exited (${signal ?? `code ${code}`})${why ? `: ${why}` : ''}`;
      }
      this.options.onNote?.(this.problem);
      this.scheduleRestart(child);
    });
  }

  private scheduleRestart(child: ChildProcessByStdio<null, Readable, Readable>): void {
    if (this.stopped || this.child !== child) return;
    this.child = undefined;
    const wait = backoffMs(this.attempt++);
    this.options.onNote?.(`restarting ffmpeg in ${wait} ms`);
    clearTimeout(this.retry);
    this.retry = setTimeout(() => this.restart(), wait);
  }
}
