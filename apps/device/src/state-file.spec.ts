import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readState, writeState } from './state-file';
import { backoffMs } from './agent';

describe('agent state file', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'ddnn-agent-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips, readable by the owner only, and is ignored for another server or name', async () => {
    const file = path.join(dir, 'sub', 'cam.json');
    const state = { server: 'http://a:1', name: 'cam', deviceId: 'd1', token: 't1' };
    await writeState(file, state);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await readState(file, 'http://a:1', 'cam')).toEqual(state);
    expect(await readState(file, 'http://b:1', 'cam')).toBeNull();
    expect(await readState(file, 'http://a:1', 'other')).toBeNull();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(state);
  });

  it('is null when missing and an error naming the file when corrupt', async () => {
    expect(await readState(path.join(dir, 'none.json'), 'http://a', 'x')).toBeNull();
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{oops');
    await expect(readState(bad, 'http://a', 'x')).rejects.toThrow(`${bad}: not valid JSON`);
  });
});

describe('backoffMs', () => {
  it('grows from about 0.5 s and is capped near 10 s', () => {
    for (let i = 0; i < 50; i++) {
      expect(backoffMs(0)).toBeGreaterThanOrEqual(375);
      expect(backoffMs(0)).toBeLessThanOrEqual(625);
      expect(backoffMs(3)).toBeGreaterThanOrEqual(3000);
      expect(backoffMs(30)).toBeLessThanOrEqual(12_500);
      expect(backoffMs(30)).toBeGreaterThanOrEqual(7500);
    }
  });
});
