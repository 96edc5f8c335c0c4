import { defaultServer, parseWindows } from './analyze';

describe('the platform the CLI talks to', () => {
  it('is DDNN_SERVER, else the local API on PORT (3000 when unset), as npm start serves it', () => {
    expect(defaultServer({ DDNN_SERVER: 'http://api.example:8080', PORT: '4000' })).toBe('http://api.example:8080');
    expect(defaultServer({ PORT: '4321' })).toBe('http://localhost:4321');
    expect(defaultServer({})).toBe('http://localhost:3000');
    expect(defaultServer({ PORT: 'not-a-port' })).toBe('http://localhost:3000');
  });
});

describe('--window', () => {
  it('takes <run>:<from>-<to>, one per run, and names what is wrong', async () => {
    expect(await parseWindows(['run-a:100-499', 'run-b:0-0'])).toEqual({ 'run-a': { fromSample: 100, toSample: 499 }, 'run-b': { fromSample: 0, toSample: 0 } });
    await expect(parseWindows(['run-a:1-2', 'run-a:3-4'])).rejects.toThrow(/names run run-a twice/);
    for (const bad of ['run-a', 'run-a:5', 'run-a:-1-4', ':1-2', 'run a:1-2']) await expect(parseWindows([bad])).rejects.toThrow(/--window must be <run id>:<first sample>-<last sample>/);
    await expect(parseWindows(['run-a:9-3'])).rejects.toThrow(/--window run-a:9-3/);
  });
});
