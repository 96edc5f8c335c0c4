import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Capture } from '@ddnn/ddnn';
import { DEFAULT_FFMPEG, FfmpegSource } from './ffmpeg';

const shape = { height: 24, width: 32, channels: 3 };
let dir: string;
let video: string;

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ddnn-ffmpeg-source-'));
  video = path.join(dir, 'clip.avi');
  // A 2-second test pattern made by ffmpeg itself.
  execFileSync(DEFAULT_FFMPEG, ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-t', '2', '-c:v', 'mpeg4', video]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('FfmpegSource', () => {
  it('decodes a video at the view size and rate, stamps frames, loops it without a gap, and restarts ffmpeg when it exits', async () => {
    const notes: string[] = [];
    const source = new FfmpegSource({ url: video, fps: 10, maxFrameAgeMs: 400, onNote: (m) => notes.push(m) });
    try {
      expect(await source.capture({ shape })).toEqual({ skipped: 'ffmpeg started, no frame yet' });
      let c = { skipped: '' } as Capture;
      const t0 = Date.now();
      await until('a first frame', async () => !('skipped' in (c = await source.capture({ shape }))));
      if ('skipped' in c) throw new Error(c.skipped);
      expect(c.pixels).toHaveLength(24 * 32 * 3);
      expect(Math.max(...c.pixels)).toBe(1);
      expect(c.pixels.every((v) => v >= 0 && v <= 1)).toBe(true);
      expect(c.capturedAt).toBeGreaterThanOrEqual(t0);
      expect(c.capturedAt).toBeLessThanOrEqual(Date.now());
      // Frames keep arriving in real time (-re): a later capture has a later capture time.
      const first = c.capturedAt;
      await until('a newer frame', async () => {
        const d = await source.capture({ shape });
        return !('skipped' in d) && d.capturedAt > first;
      });
      // The 2-second clip plays over its end twice without ffmpeg exiting: started over by a new ffmpeg at each end,
      // it left a gap of the restart's backoff and start-up (a capture skipped as "ffmpeg exited" every loop).
      const exits: string[] = [];
      const loopUntil = Date.now() + 4500;
      while (Date.now() < loopUntil) {
        const d = await source.capture({ shape });
        if ('skipped' in d && /ffmpeg exited/.test(d.skipped)) exits.push(d.skipped);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(exits).toEqual([]);
      expect(notes).toEqual([]);
      // ffmpeg dies: it is started again with backoff.
      execFileSync('pkill', ['-KILL', '-P', String(process.pid), '-x', 'ffmpeg']);
      await until('ffmpeg to exit and restart', () => notes.some((n) => /^restarting ffmpeg in \d+ ms$/.test(n)), 15_000);
      expect(notes).toContainEqual(expect.stringMatching(/^ffmpeg exited \(SIGKILL\)/));
      const restartedAt = Date.now();
      await until('frames after the restart', async () => {
        const d = await source.capture({ shape });
        return !('skipped' in d) && d.capturedAt > restartedAt;
      });
    } finally {
      source.stop();
    }
  }, 40_000);

  it('a missing ffmpeg is a clear reason on every capture, and a broken input says what ffmpeg said', async () => {
    const missing = new FfmpegSource({ url: video, fps: 5, maxFrameAgeMs: 1000, binary: path.join(dir, 'no-ffmpeg') });
    try {
      missing.prepare(shape);
      await until('the spawn error', async () => {
        const c = await missing.capture({ shape });
        return 'skipped' in c && c.skipped.startsWith('ffmpeg not found');
      });
      expect(await missing.capture({ shape })).toEqual({ skipped: `ffmpeg not found at ${path.join(dir, 'no-ffmpeg')} (install Debian's ffmpeg package, or pass --ffmpeg-path)` });
    } finally {
      missing.stop();
    }
    const broken = new FfmpegSource({ url: path.join(dir, 'no-such-clip.avi'), fps: 5, maxFrameAgeMs: 1000 });
    try {
      broken.prepare(shape);
      await until('ffmpeg to fail', async () => {
        const c = await broken.capture({ shape });
        return 'skipped' in c && c.skipped.startsWith('ffmpeg exited');
      });
      expect(await broken.capture({ shape })).toEqual({ skipped: expect.stringMatching(/^ffmpeg exited \(code \d+\): .*no-such-clip\.avi: No such file or directory/) });
    } finally {
      broken.stop();
    }
  }, 30_000);
});
