import fsp from 'node:fs/promises';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeImage, storeView } from '@ddnn/datasets';
import sharp from 'sharp';
import { ProblemReport } from '../problem';
import { CROWDED_FOLDER, FolderSource } from './folder';

const shape = { height: 16, width: 16, channels: 3 };
let dir: string;

/** A real PNG of a gradient whose brightness is `level`, so frames can be told apart. */
async function png(width: number, height: number, level: number): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.round(((i % (width * 3)) / (width * 3)) * level);
  return sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer();
}
const write = (name: string, bytes: Buffer, mtimeMs: number) => {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  utimesSync(file, mtimeMs / 1000, mtimeMs / 1000);
  return file;
};

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ddnn-folder-source-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('FolderSource', () => {
  const now = 1_800_000_010_000;

  it('takes the newest frame, converted exactly as a dataset image is, with its file time as capture time', async () => {
    write('a.png', await png(16, 16, 100), now - 300);
    const newest = write('b.png', await png(16, 16, 200), now - 100);
    write('c.png.tmp', Buffer.from('not an image'), now);
    const source = new FolderSource({ dir, maxFrameAgeMs: 1000, now: () => now });
    const c = await source.capture({ shape });
    if ('skipped' in c) throw new Error(c.skipped);
    expect(c.capturedAt).toBe(now - 100);
    const expected = new Float32Array(16 * 16 * 3);
    storeView(decodeImage(readFileSync(newest)), shape, expected, 0);
    expect(Array.from(c.pixels)).toEqual(Array.from(expected));
    expect(Math.max(...c.pixels)).toBe(1);
  });

  it('resizes a camera-sized frame to the model view and converts a grey JPEG to its channels', async () => {
    const grey = await sharp(Buffer.alloc(64 * 48, 90), { raw: { width: 64, height: 48, channels: 1 } }).jpeg().toBuffer();
    write('cam.jpg', grey, now - 10);
    const c = await new FolderSource({ dir, maxFrameAgeMs: 1000, now: () => now }).capture({ shape });
    if ('skipped' in c) throw new Error(c.skipped);
    expect(c.pixels).toHaveLength(16 * 16 * 3);
    // A flat grey frame scaled by its own maximum is all ones.
    expect(c.pixels.every((v) => Math.abs(v - 1) < 1e-6)).toBe(true);
  });

  it('among frames a camera left behind, finds the newest, and says once that the folder should be kept small', async () => {
    const old = await png(16, 16, 50);
    for (let i = 0; i < CROWDED_FOLDER + 200; i++) write(`old-${String(i).padStart(5, '0')}.png`, old, now - 60_000 - i);
    write('zz-newest.png', await png(16, 16, 200), now - 20);
    const notes: string[] = [];
    const source = new FolderSource({ dir, maxFrameAgeMs: 1000, now: () => now, onNote: (m) => notes.push(m) });
    for (let k = 0; k < 2; k++) {
      const c = await source.capture({ shape });
      if ('skipped' in c) throw new Error(c.skipped);
      expect(c.capturedAt).toBe(now - 20);
    }
    expect(notes).toEqual([`${dir} holds ${CROWDED_FOLDER + 201} frames: every capture looks at each of them; have the camera remove old frames (keeping a few)`]);
  });

  it('a stale newest frame is a skipped capture, not silently reused', async () => {
    write('old.png', await png(16, 16, 100), now - 5000);
    const c = await new FolderSource({ dir, maxFrameAgeMs: 1000, now: () => now }).capture({ shape });
    expect(c).toEqual({ skipped: 'newest frame old.png is 5000 ms old (max 1000 ms)' });
  });

  it('a half-written newest frame is never read: it falls back to the previous fresh frame and says why', async () => {
    write('f1.png', await png(16, 16, 120), now - 200);
    const whole = await png(16, 16, 250);
    write('f2.png', whole.subarray(0, Math.floor(whole.length / 2)), now - 50);
    const notes: string[] = [];
    const source = new FolderSource({ dir, maxFrameAgeMs: 1000, now: () => now, onNote: (m) => notes.push(m) });
    const c = await source.capture({ shape });
    if ('skipped' in c) throw new Error(c.skipped);
    expect(c.capturedAt).toBe(now - 200);
    expect(notes).toEqual([expect.stringMatching(/^skipped f2\.png \(unreadable, probably still being written: .+\); used f1\.png$/)]);

    // With no fresh complete frame behind it, the capture is skipped with the reason.
    rmSync(path.join(dir, 'f1.png'));
    expect(await source.capture({ shape })).toEqual({ skipped: expect.stringMatching(/^no complete fresh frame: f2\.png \(unreadable/) });
    // The previous frame exists but is too old to fall back to.
    write('f0.png', await png(16, 16, 120), now - 3000);
    expect(await source.capture({ shape })).toEqual({ skipped: expect.stringMatching(/^no complete fresh frame: f2\.png/) });
  });

  it('a complete frame with too many pixels is named too large, with its size and the limit, not "still being written"', async () => {
    write('c.png', await png(16, 16, 120), now - 200);
    const huge = await sharp({ create: { width: 10000, height: 10000, channels: 3, background: { r: 0, g: 0, b: 0 } } }).png().toBuffer();
    write('d.png', huge, now - 50);
    const notes: string[] = [];
    const source = new FolderSource({ dir, maxFrameAgeMs: 1000, now: () => now, onNote: (m) => notes.push(m) });
    expect(await source.capture({ shape })).toMatchObject({ capturedAt: now - 200 });
    const tooLarge = 'd.png (image too large: 10000x10000 is 100000000 pixels, at most 16777216 (4096x4096) are accepted)';
    expect(notes).toEqual([`skipped ${tooLarge}; used c.png`]);
    rmSync(path.join(dir, 'c.png'));
    expect(await source.capture({ shape })).toEqual({ skipped: `no complete fresh frame: ${tooLarge}` });
  });

  it('ignores frames dated ahead of the clock (beyond the allowance push frames get), and says so until they are gone', async () => {
    // A camera writing fresh frames, and one file touched an hour ahead: it was the newest by far, every capture sent it.
    write('fresh-1.png', await png(16, 16, 100), now - 300);
    write('fresh-2.png', await png(16, 16, 200), now - 100);
    const future = write('future.png', await png(16, 16, 50), now + 3_600_000);
    let clock = now;
    const source = new FolderSource({ dir, maxFrameAgeMs: 1000, now: () => clock });
    expect(await source.capture({ shape })).toMatchObject({ capturedAt: now - 100 });
    const problem =
      `ignoring a frame dated ahead of this device's clock in ${dir} (future.png is 3600000 ms ahead of this device's clock (at most 2000 ms)), ` +
      'and any so dated since: a camera clock ahead of this one, or a file touched; remove them or set the clock';
    expect(source.problem()).toBe(problem);

    // A camera clock a little ahead of this one is within the allowance: its frame is used. The same ignored file
    // keeps the same words (its lead shrinks with every capture), so that it is reported once.
    write('slightly-ahead.png', await png(16, 16, 150), now + 1500);
    clock = now + 40;
    expect(await source.capture({ shape })).toMatchObject({ capturedAt: now + 1500 });
    expect(source.problem()).toBe(problem);

    // A second one is ignored too, in the same words: the problem is not new while frames are being ignored.
    const future2 = write('future-2.jpg', await sharp(Buffer.alloc(16 * 16 * 3, 9), { raw: { width: 16, height: 16, channels: 3 } }).jpeg().toBuffer(), now + 60_000);
    expect(await source.capture({ shape })).toMatchObject({ capturedAt: now + 1500 });
    expect(source.problem()).toBe(problem);

    rmSync(future);
    rmSync(future2);
    expect(await source.capture({ shape })).toMatchObject({ capturedAt: now + 1500 });
    expect(source.problem()).toBeNull();
  });

  it('a camera whose clock is ahead writes a new such frame at every capture: its problem is said once, not at every capture', async () => {
    let clock = now;
    const source = new FolderSource({ dir, maxFrameAgeMs: 1000, now: () => clock });
    const report = new ProblemReport('source folder', () => clock);
    const bytes = await png(16, 16, 80);
    const problems = new Set<string | null>();
    const changes: (string | null)[] = [];
    for (let i = 0; i < 20; i++) {
      // Names that share no digits-only pattern (a uuid), each frame 5 s ahead of this clock when it is written.
      write(`${(0xa3f9c2e1 + i * 104_729).toString(16)}.png`, bytes, clock + 5000);
      const c = await source.capture({ shape });
      problems.add(source.problem());
      const change = report.observe('skipped' in c ? { ok: false, skipped: true, cause: 'source', error: c.skipped } : { ok: true }, source.problem());
      if (change) changes.push(change.problem);
      clock += 250;
    }
    expect(problems.size).toBe(1);
    expect([...problems][0]).toMatch(/^ignoring a frame dated ahead of this device's clock in .* \([0-9a-f]+\.png is 5000 ms ahead .*\), and any so dated since: /);
    // The frames ignored, said at the first capture; then that none is served, after SKIP_STREAK captures. Nothing else.
    expect(changes).toHaveLength(2);
    expect(changes[0]).toBe(`source folder: ${[...problems][0]}`);
    expect(changes[1]).toMatch(/; cannot serve a sample \(source folder\): every capture since .* skipped: no usable frame: ignoring a frame/);
  });

  it('a frame written while the folder is looked at (a crowded folder, a slow card) is compared with the clock after its own stat, not before the look', async () => {
    // A slow card: by the time the look reaches late.png, the camera has written it 3 s after the look began.
    write('early.png', await png(16, 16, 100), now - 100);
    const late = write('late.png', await png(16, 16, 200), now + 3000);
    let clock = now;
    const realStat = fsp.stat;
    const spy = jest.spyOn(fsp, 'stat').mockImplementation((async (file: string) => {
      if (file === late) clock = now + 3000;
      return realStat(file);
    }) as typeof fsp.stat);
    try {
      const source = new FolderSource({ dir, maxFrameAgeMs: 1000, now: () => clock });
      expect(await source.capture({ shape })).toMatchObject({ capturedAt: now + 3000 });
      expect(source.problem()).toBeNull();
      expect(spy).toHaveBeenCalledWith(late);
    } finally {
      spy.mockRestore();
    }
  });

  it('a frame touched ahead stays ignored once its time comes (never served as the live frame), until it is rewritten', async () => {
    const touched = write('touched.png', await png(16, 16, 50), now + 3_600_000);
    write('fresh.png', await png(16, 16, 200), now - 100);
    let clock = now;
    const source = new FolderSource({ dir, maxFrameAgeMs: 1000, now: () => clock });
    expect(await source.capture({ shape })).toMatchObject({ capturedAt: now - 100 });
    const problem = source.problem();
    expect(problem).toMatch(/touched\.png is 3600000 ms ahead/);

    // The hour has passed: touched.png now looks fresh, and the newest; the camera's own frame is taken instead.
    clock = now + 3_600_100;
    write('fresh.png', await png(16, 16, 200), clock - 200);
    expect(await source.capture({ shape })).toMatchObject({ capturedAt: clock - 200 });
    expect(source.problem()).toBe(problem);

    // Written again (a new modification time, not ahead), it is a frame like any other.
    utimesSync(touched, (clock - 50) / 1000, (clock - 50) / 1000);
    expect(await source.capture({ shape })).toMatchObject({ capturedAt: clock - 50 });
    expect(source.problem()).toBeNull();
  });

  it('a folder holding only frames dated ahead is a skipped capture naming them', async () => {
    write('future.png', await png(16, 16, 50), now + 10_000);
    const source = new FolderSource({ dir, maxFrameAgeMs: 1000, now: () => now });
    expect(await source.capture({ shape })).toEqual({ skipped: `no usable frame: ${source.problem()}` });
    expect(source.problem()).toMatch(/^ignoring a frame dated ahead of this device's clock in .* \(future\.png is 10000 ms ahead/);
  });

  it('a missing folder or an empty one is a skipped capture with the reason', async () => {
    expect(await new FolderSource({ dir, maxFrameAgeMs: 1000 }).capture({ shape })).toEqual({ skipped: `no frame in ${dir} yet` });
    const missing = path.join(dir, 'nope');
    expect(await new FolderSource({ dir: missing, maxFrameAgeMs: 1000 }).capture({ shape })).toEqual({ skipped: `source folder ${missing} cannot be read (ENOENT)` });
  });
});
