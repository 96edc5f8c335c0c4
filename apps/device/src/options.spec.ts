import path from 'node:path';
import { OptionsError, parseOptions } from './options';

describe('parseOptions', () => {
  it('fills defaults and resolves paths against the working directory', () => {
    const o = parseOptions({ server: 'http://localhost:3000/ignored', profileKey: 'k', name: 'cam-3', view: '3', data: 'data' }, '/work');
    expect(o).toEqual({
      server: 'http://localhost:3000',
      profileKey: 'k',
      name: 'cam-3',
      role: 'end-device',
      view: 3,
      data: path.resolve('/work', 'data'),
      state: path.resolve('/work', '.data/devices/cam-3.json'),
      heartbeatMs: 5000,
      fault: null,
    });
  });

  it('accepts an edge node without a view or data', () => {
    expect(parseOptions({ server: 'https://ddnn.example', name: 'edge-a', role: 'edge' }, '/w')).toMatchObject({ role: 'edge', view: null });
  });

  it('names every problem at once', () => {
    let err: unknown;
    try {
      parseOptions({ server: 'ftp://x', name: 'bad name', role: 'end-device', view: '-1', heartbeatMs: '5' });
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
});
