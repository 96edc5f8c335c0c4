import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Capture, CaptureSource, ViewShape } from '@ddnn/ddnn';
import { decodeFrame, FrameTooLargeError, toModelInput } from './frame';

const FRAME_FILE = /\.(png|jpe?g)$/i;
/** Files looked at together (stat calls in flight): one at a time, 30,000 left-behind frames took most of a core. */
const STAT_BATCH = 64;
/** More frames than this in the folder: each capture looks at every one, so the camera should remove old ones. */
export const CROWDED_FOLDER = 1000;

export interface FolderSourceOptions {
  /** The folder a camera process writes frames into. */
  dir: string;
  /** A newest frame older than this is a skipped capture (never silently reused). */
  maxFrameAgeMs: number;
  now?: () => number;
  /** Told about what a capture had to work around (a half-written newest frame). */
  onNote?: (message: string) => void;
}

/**
 * Frames from a folder a camera process writes into: at each capture the newest complete PNG/JPEG (by
 * modification time) no older than the maximum age. The newest file may be still being written: it then fails to
 * decode, and the capture falls back to the next newest fresh frame (or is skipped), saying so. Hidden files
 * (a camera's `.tmp` files before an atomic rename) are ignored.
 */
export class FolderSource implements CaptureSource {
  private readonly now: () => number;
  private warnedCrowded = false;

  constructor(private readonly options: FolderSourceOptions) {
    this.now = options.now ?? Date.now;
  }

  async capture(request: { shape: ViewShape }): Promise<Capture> {
    const { dir, maxFrameAgeMs } = this.options;
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      return { skipped: `source folder ${dir} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
    }
    const candidates = names.filter((name) => !name.startsWith('.') && FRAME_FILE.test(name));
    if (candidates.length > CROWDED_FOLDER && !this.warnedCrowded) {
      this.warnedCrowded = true;
      this.options.onNote?.(`${dir} holds ${candidates.length} frames: every capture looks at each of them; have the camera remove old frames (keeping a few)`);
    }
    const frames: { file: string; mtimeMs: number }[] = [];
    for (let i = 0; i < candidates.length; i += STAT_BATCH) {
      const batch = candidates.slice(i, i + STAT_BATCH).map(async (name) => {
        const file = path.join(dir, name);
        try {
          const st = await stat(file);
          if (st.isFile()) frames.push({ file, mtimeMs: st.mtimeMs });
        } catch {
          // removed between readdir and stat: the camera rotates its files
        }
      });
      await Promise.all(batch);
    }
    if (frames.length === 0) return { skipped: `no frame in ${dir} yet` };
    frames.sort((a, b) => b.mtimeMs - a.mtimeMs);
    const now = this.now();
    const age = now - frames[0].mtimeMs;
    if (age > maxFrameAgeMs) return { skipped: `newest frame ${path.basename(frames[0].file)} is ${Math.round(age)} ms old (max ${maxFrameAgeMs} ms)` };
    const unreadable: string[] = [];
    for (const f of frames) {
      if (now - f.mtimeMs > maxFrameAgeMs) break;
      try {
        const raster = await decodeFrame(await readFile(f.file));
        if (unreadable.length) this.options.onNote?.(`skipped ${unreadable.join(', ')}; used ${path.basename(f.file)}`);
        return { pixels: await toModelInput(raster, request.shape), capturedAt: Math.round(f.mtimeMs) };
      } catch (e) {
        // A frame too large is complete: waiting for the camera to finish writing it would not help.
        const why = e instanceof FrameTooLargeError ? e.message : `unreadable, probably still being written: ${(e as Error).message}`;
        unreadable.push(`${path.basename(f.file)} (${why})`);
      }
    }
    return { skipped: `no complete fresh frame: ${unreadable.join(', ')}`.slice(0, 300) };
  }
}
