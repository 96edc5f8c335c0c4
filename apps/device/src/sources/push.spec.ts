import type { AddressInfo } from 'node:net';
import { decodeImage, storeView } from '@ddnn/datasets';
import sharp from 'sharp';
import { MAX_PUSH_BYTES, PushSource } from './push';

const shape = { height: 8, width: 8, channels: 3 };
const png = (level: number) => sharp(Buffer.alloc(8 * 8 * 3, level), { raw: { width: 8, height: 8, channels: 3 } }).png().toBuffer();

describe('PushSource', () => {
  let clock = 1_800_000_000_000;
  const now = () => clock;

  it('the library call: encoded or raw frames, the latest used while fresh, capture time kept, bad frames refused', async () => {
    const push = new PushSource({ maxFrameAgeMs: 500, now });
    expect(await push.capture({ shape })).toEqual({ skipped: 'nothing pushed yet' });

    const frame = await png(80);
    await push.pushFrame(frame, clock - 20);
    let c = await push.capture({ shape });
    if ('skipped' in c) throw new Error(c.skipped);
    expect(c.capturedAt).toBe(clock - 20);
    const expected = new Float32Array(8 * 8 * 3);
    storeView(decodeImage(frame), shape, expected, 0);
    expect(Array.from(c.pixels)).toEqual(Array.from(expected));

    // Raw RGBA pixels of another size: resized to the view, alpha dropped; capture time defaults to now.
    const rgba = new Uint8Array(20 * 10 * 4);
    for (let i = 0; i < rgba.length; i += 4) rgba.set([i % 200, 50, 25, 255], i);
    await push.pushFrame({ width: 20, height: 10, channels: 4, data: rgba });
    c = await push.capture({ shape });
    if ('skipped' in c) throw new Error(c.skipped);
    expect(c.capturedAt).toBe(clock);
    expect(c.pixels).toHaveLength(8 * 8 * 3);

    await expect(push.pushFrame(Buffer.from('garbage'))).rejects.toThrow();
    await expect(push.pushFrame({ width: 4, height: 4, channels: 3, data: new Uint8Array(5) })).rejects.toThrow(/needs 48/);
    await expect(push.pushFrame(frame, Number.NaN)).rejects.toThrow(/capturedAt must be epoch milliseconds/);
    // Stamped an hour ahead: refused (it stayed the newest and "fresh" for that hour); a little ahead is clock skew.
    await expect(push.pushFrame(frame, clock + 3_600_000)).rejects.toThrow('capturedAt is 3600000 ms ahead of this device\'s clock (at most 2000 ms)');
    expect(await push.capture({ shape })).toMatchObject({ capturedAt: clock });
    // Stamped older than the max frame age: refused, as no capture would ever use it.
    await expect(push.pushFrame(frame, clock - 3_600_000)).rejects.toThrow('capturedAt is 3600000 ms old, older than the max frame age (500 ms): no capture would use it');
    // A frame older than the one kept does not replace it.
    await push.pushFrame(await png(10), clock - 100);
    expect(await push.capture({ shape })).toMatchObject({ capturedAt: clock });

    clock += 501;
    expect(await push.capture({ shape })).toEqual({ skipped: 'latest pushed frame is 501 ms old (max 500 ms)' });
  });

  it('a frame with too many pixels is refused as too large, with its size and the limit; one stamped too old, as too old', async () => {
    const push = new PushSource({ maxFrameAgeMs: 1000, now });
    const uhd8k = await sharp({ create: { width: 7680, height: 4320, channels: 3, background: { r: 9, g: 0, b: 0 } } }).jpeg().toBuffer();
    const tooLarge = 'image too large: 7680x4320 is 33177600 pixels, at most 16777216 (4096x4096) are accepted';
    await expect(push.pushFrame(uhd8k)).rejects.toThrow(tooLarge);
    await expect(push.pushFrame({ width: 4097, height: 4097, channels: 1, data: new Uint8Array(4097 * 4097) })).rejects.toThrow(
      'image too large: 4097x4097 is 16785409 pixels, at most 16777216 (4096x4096) are accepted',
    );
    const port = await push.listen(0);
    try {
      const post = (body: Uint8Array, headers: Record<string, string> = {}) => fetch(`http://127.0.0.1:${port}/frames`, { method: 'POST', body, headers });
      const large = await post(uhd8k);
      expect(large.status).toBe(400);
      expect(await large.text()).toBe(`not a usable frame: ${tooLarge}\n`);
      const old = await post(await png(5), { 'x-captured-at': String(clock - 3_600_000) });
      expect(old.status).toBe(400);
      expect(await old.text()).toBe('not a usable frame: capturedAt is 3600000 ms old, older than the max frame age (1000 ms): no capture would use it\n');
      expect(await push.capture({ shape })).toEqual({ skipped: 'nothing pushed yet' });
    } finally {
      await push.close();
    }
  });

  it('the HTTP endpoint: 127.0.0.1 only, POST /frames validated and size-limited', async () => {
    const push = new PushSource({ maxFrameAgeMs: 10_000_000_000_000, now });
    const port = await push.listen(0);
    try {
      const server = (push as unknown as { server: { address(): AddressInfo } }).server;
      expect(server.address().address).toBe('127.0.0.1');
      const url = `http://127.0.0.1:${port}/frames`;
      const post = (body: Uint8Array | string, headers: Record<string, string> = {}) => fetch(url, { method: 'POST', body, headers });

      const ok = await post(await png(200), { 'x-captured-at': String(clock - 7) });
      expect(ok.status).toBe(204);
      expect(await push.capture({ shape })).toMatchObject({ capturedAt: clock - 7 });

      const bad = await post('not an image');
      expect(bad.status).toBe(400);
      expect(await bad.text()).toMatch(/^not a usable frame: /);
      expect((await post(await png(1), { 'x-captured-at': 'yesterday' })).status).toBe(400);
      expect((await post(await png(1), { 'x-captured-at': '12' })).status).toBe(400);
      expect((await fetch(url)).status).toBe(405);
      expect((await fetch(`http://127.0.0.1:${port}/other`, { method: 'POST', body: 'x' })).status).toBe(404);
      const big = await post(new Uint8Array(MAX_PUSH_BYTES + 1)).catch((e: Error) => e);
      // The endpoint answers 413 and closes; a client still sending may see the connection reset instead.
      if (big instanceof Response) expect(big.status).toBe(413);
      else expect(big).toBeInstanceOf(Error);
      // Refused pushes left the accepted frame in place.
      expect(await push.capture({ shape })).toMatchObject({ capturedAt: clock - 7 });
    } finally {
      await push.close();
    }
  });
});
