import path from 'node:path';
import { OptionsError, parseOptions } from './options';

describe('parseOptions', () => {
  it('fills defaults and resolves paths against the working directory', () => {
    const o = parseOptions({ server: 'http://localhost:3000/ignored', profileKey: 'k', name: 'cam-3', view: '3', data: 'data' }, '/work');
    expect(o).toEqual({
      server: 'http://localhost:3000',
      profileKey: 'k',
      token: null,
      name: 'cam-3',
      role: 'end-device',
      view: 3,
      data: path.resolve('/work', 'data'),
      state: path.resolve('/work', '.data/devices/cam-3.json'),
      heartbeatMs: 5000,
      fault: null,
      source: { kind: 'dataset' },
    });
  });

  it('accepts an edge node without a view or data', () => {
    expect(parseOptions({ server: 'https://ddnn.example', name: 'edge-a', role: 'edge' }, '/w')).toMatchObject({ role: 'edge', view: null });
  });

  it('names every problem at once', () => {
    let err: unknown;
    try {
      parseOptions({ server: 'ftp://x', name: 'bad name', role: 'end-device', view: '-1', heartbeatMs: '5', token: 'two words' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OptionsError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/--server must be an http\(s\) URL/);
    expect(msg).toMatch(/--name must be/);
    expect(msg).toMatch(/--view must be an integer 0..255, got -1/);
    expect(msg).toMatch(/--data is required/);
    expect(msg).toMatch(/--heartbeat-ms must be an integer >= 100/);
    expect(msg).toMatch(/--token must be the token rotate-token issued/);
    expect(msg).not.toMatch(/two words/);
  });

  it('takes a fault for drills: garbage, or a crash at the nth request', () => {
    const base = { server: 'http://h', name: 'c', view: '0', data: '.' };
    expect(parseOptions({ ...base, fault: 'garbage' }).fault).toEqual({ kind: 'garbage' });
    expect(parseOptions({ ...base, fault: 'crash-at:40' }).fault).toEqual({ kind: 'crash', atRequest: 40 });
    expect(() => parseOptions({ ...base, fault: 'crash-at:0' })).toThrow(/--fault must be garbage or crash-at:<n>/);
    expect(() => parseOptions({ ...base, fault: 'explode' })).toThrow(/--fault must be/);
  });

  it('requires a view for an end device', () => {
    expect(() => parseOptions({ server: 'http://h', name: 'c', data: '.' })).toThrow(/--view is required/);
  });

  const base = { server: 'http://h', name: 'c', view: '0' };
  it('configures each source with its own flags and defaults', () => {
    expect(parseOptions({ ...base, source: 'folder', sourcePath: 'frames' }, '/w').source).toEqual({ kind: 'folder', path: '/w/frames', maxFrameAgeMs: 500 });
    expect(parseOptions({ ...base, source: 'push', pushPort: '8123', maxFrameAgeMs: '250' }).source).toEqual({ kind: 'push', port: 8123, maxFrameAgeMs: 250 });
    expect(parseOptions({ ...base, source: 'ffmpeg', sourcePath: 'clip.mp4' }, '/w').source).toEqual({
      kind: 'ffmpeg', input: '/w/clip.mp4', fps: 5, maxFrameAgeMs: 500, ffmpegPath: '/usr/bin/ffmpeg',
    });
    expect(parseOptions({ ...base, source: 'ffmpeg', sourceUrl: 'rtsp://cam.local/stream1', fps: '2.5', ffmpegPath: '/opt/ffmpeg' }).source).toMatchObject({
      input: 'rtsp://cam.local/stream1', fps: 2.5, ffmpegPath: '/opt/ffmpeg',
    });
  });

  it('names every source problem: unknown kind, missing or foreign flags, bad numbers', () => {
    const problems = (raw: Record<string, string>) => {
      try {
        parseOptions({ ...base, ...raw });
      } catch (e) {
        expect(e).toBeInstanceOf(OptionsError);
        return (e as Error).message;
      }
      throw new Error('expected an OptionsError');
    };
    expect(problems({ source: 'webcam' })).toMatch(/--source must be one of dataset, folder, push, ffmpeg, got webcam/);
    expect(problems({ source: 'folder' })).toMatch(/--source folder needs --source-path/);
    expect(problems({ source: 'push' })).toMatch(/--source push needs --push-port/);
    expect(problems({ source: 'push', pushPort: '70000' })).toMatch(/--push-port must be a port 1..65535, got 70000/);
    expect(problems({ source: 'ffmpeg' })).toMatch(/exactly one of --source-path <video file> or --source-url/);
    expect(problems({ source: 'ffmpeg', sourcePath: 'a', sourceUrl: 'rtsp://x' })).toMatch(/exactly one of/);
    expect(problems({ source: 'ffmpeg', sourceUrl: 'ftp://x/y' })).toMatch(/--source-url must be a rtsp\/.* URL, got ftp:/);
    expect(problems({ source: 'ffmpeg', sourceUrl: 'rtsp://x', fps: '0' })).toMatch(/--fps must be a number in \(0, 120\], got 0/);
    expect(problems({ source: 'folder', sourcePath: 'f', maxFrameAgeMs: '1.5' })).toMatch(/--max-frame-age-ms must be an integer 1..3600000, got 1.5/);
    expect(problems({ source: 'folder', sourcePath: 'f', pushPort: '1', fps: '3' })).toMatch(/--fps is only for --source ffmpeg[^]*--push-port is only for --source push/);
    expect(problems({ data: 'd', sourcePath: 'f' })).toMatch(/--source-path is only for --source folder or ffmpeg \(this agent's source is dataset\)/);
    expect(problems({ source: 'folder', sourcePath: 'f', role: 'edge' })).toMatch(/--source folder is for end devices: an edge node has no camera/);
    // --data is only required when replaying a dataset.
    expect(problems({ source: 'dataset' })).toMatch(/--data is required for an end device on --source dataset/);
  });
});
