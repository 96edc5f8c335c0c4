import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Capture, CaptureSource, ViewShape } from '@ddnn/ddnn';
import { aheadOfClock, decodeFrame, FrameTooLargeError, toModelInput } from './frame';

const FRAME_FILE = /\.(png|jpe?g)$/i;
/** Files looked at together (stat calls in flight): one at a time, 30,000 left-behind frames took most of a core. */
const STAT_BATCH = 64;
/** More frames than this in the folder: each capture looks at every one, so the camera should remove old ones. */
export const CROWDED_FOLDER = 1000;
/** Frames dated ahead of the clock named in the source's problem (the rest are counted). */
const NAMED_AHEAD = 3;

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
 * (a camera's `.tmp` files before an atomic rename) are ignored, and so are frames dated ahead of this clock (the
 * rule push frames follow): one file touched an hour ahead was the newest for that hour, every capture sent it, and
 * the server refused each as stale while fresh frames kept arriving. A file once ignored stays ignored while its
 * modification time is the same: its time arriving does not make it a live frame (it would have been served as one
 * for 2 s + the max frame age). Those are this source's `problem()`.
 */
export class FolderSource implements CaptureSource {
  private readonly now: () => number;
  private warnedCrowded = false;
  /** Files ignored for being dated ahead (by name: modification time, and why when first seen), while there unchanged. */
  private readonly ignored = new Map<string, { mtimeMs: number; why: string }>();
  /** The problem that says frames are ignored, worded when the first were and kept while any are (see noteAhead). */
  private ahead: string | null = null;

  constructor(private readonly options: FolderSourceOptions) {
    this.now = options.now ?? Date.now;
  }

  async capture(request: { shape: ViewShape }): Promise<Capture> {
    const { dir, maxFrameAgeMs } = this.options;
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      this.ahead = null;
      return { skipped: `source folder ${dir} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
    }
    const candidates = names.filter((name) => !name.startsWith('.') && FRAME_FILE.test(name));
    if (candidates.length > CROWDED_FOLDER && !this.warnedCrowded) {
      this.warnedCrowded = true;
      this.options.onNote?.(`${dir} holds ${candidates.length} frames: every capture looks at each of them; have the camera remove old frames (keeping a few)`);
    }
    const frames: { file: string; mtimeMs: number }[] = [];
    const ahead: { name: string; why: string }[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < candidates.length; i += STAT_BATCH) {
      const batch = candidates.slice(i, i + STAT_BATCH).map(async (name) => {
        const file = path.join(dir, name);
        try {
          const st = await stat(file);
          if (!st.isFile()) return;
          seen.add(name);
          // Compared with the clock read after this file's stat, not before the loop: in a crowded folder or on a slow
          // card, a frame written while the loop ran was seconds "ahead" of a clock read before it.
          const known = this.ignored.get(name);
          const why = known?.mtimeMs === st.mtimeMs ? known.why : aheadOfClock(st.mtimeMs, this.now());
          if (why) {
            this.ignored.set(name, { mtimeMs: st.mtimeMs, why });
            ahead.push({ name, why });
          } else {
            this.ignored.delete(name);
            frames.push({ file, mtimeMs: st.mtimeMs });
          }
        } catch {
          // removed between readdir and stat: the camera rotates its files
        }
      });
      await Promise.all(batch);
    }
    for (const name of this.ignored.keys()) if (!seen.has(name)) this.ignored.delete(name);
    this.noteAhead(ahead);
    if (frames.length === 0) return { skipped: this.ahead ? `no usable frame: ${this.ahead}` : `no frame in ${dir} yet` };
    const now = this.now();
    frames.sort((a, b) => b.mtimeMs - a.mtimeMs);
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

  /**
   * What this source works around while it still serves: the frames it ignores for being dated ahead of this
   * device's clock, or null. Worded once for as long as any is ignored, so that it is reported once.
   */
  problem(): string | null {
    return this.ahead;
  }

  /**
   * Words the problem when frames start being ignored, and keeps those words until none is: a camera whose clock is
   * ahead writes a new such frame at every capture, and words naming the current ones were a new problem (a warn line
   * and a heartbeat) at every capture. The words name the first ones and say that later ones are ignored too.
   */
  private noteAhead(ahead: { name: string; why: string }[]): void {
    if (ahead.length === 0) {
      this.ahead = null;
      return;
    }
    if (this.ahead !== null) return;
    ahead.sort((a, b) => a.name.localeCompare(b.name));
    const named = ahead.slice(0, NAMED_AHEAD).map((a) => `${a.name} is ${a.why}`);
    const more = ahead.length > NAMED_AHEAD ? ` and ${ahead.length - NAMED_AHEAD} more` : '';
    const what = ahead.length === 1 ? 'a frame' : `${ahead.length} frames`;
    this.ahead =
      `ignoring ${what} dated ahead of this device's clock in ${this.options.dir} (${named.join('; ')}${more}), and any so dated since: ` +
      'a camera clock ahead of this one, or a file touched; remove them or set the clock';
  }
}
