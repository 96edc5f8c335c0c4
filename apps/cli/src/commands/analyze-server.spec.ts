import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { defaultServer, parseWindows, registerAnalyzeCommand } from './analyze';
import { registerReportSessionCommand } from './report-session';

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

describe('--window of a command about one run', () => {
  it('takes <from>-<to> for that run, or <run>:<from>-<to> naming it', async () => {
    expect(await parseWindows(['100-499'], 'run-a')).toEqual({ 'run-a': { fromSample: 100, toSample: 499 } });
    expect(await parseWindows(['run-a:1-2'], 'run-a')).toEqual({ 'run-a': { fromSample: 1, toSample: 2 } });
    await expect(parseWindows(['run-b:1-2'], 'run-a')).rejects.toThrow('--window run-b:1-2 names run run-b, but this command is about run run-a');
    await expect(parseWindows(['100'], 'run-a')).rejects.toThrow(/^--window must be <first sample>-<last sample>, e.g. 100-499; got "100"$/);
  });
});

describe('the requests analyze and report session send', () => {
  const requests: { method: string; url: string; body: unknown }[] = [];
  let server: Server;
  let url: string;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ddnn-cli-analyze-'));
    // A stand-in platform: a stream is a 404 in the sessions table and needs a window to be compared or swept.
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        const body: unknown = text ? JSON.parse(text) : undefined;
        requests.push({ method: req.method ?? '', url: req.url ?? '', body });
        const reply = (status: number, json: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
        if (req.url?.startsWith('/api/sessions/')) return reply(404, { message: 'no such session' });
        if (req.url === '/api/analysis/compare') {
          const windows = (body as { windows?: Record<string, unknown> }).windows;
          if (!windows?.['stream-1']) return reply(400, { message: 'run stream-1 is a stream: name a window of its samples (windows.stream-1 = {fromSample, toSample})' });
          return reply(200, { rows: [] });
        }
        if (req.url?.startsWith('/api/analysis/sweep')) return reply(200, { statistic: 'entropy', points: [] });
        reply(404, { message: 'unknown' });
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((done) => server.close(done));
    await rm(dir, { recursive: true, force: true });
  });

  async function run(args: string[]): Promise<void> {
    const program = new Command('ddnn').exitOverride().configureOutput({ writeErr: () => undefined });
    registerAnalyzeCommand(program);
    registerReportSessionCommand(program);
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const writeErr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await program.parseAsync(['node', 'ddnn', ...args, '--server', url, '--token', 'x'.repeat(16)]);
    } finally {
      write.mockRestore();
      writeErr.mockRestore();
    }
  }

  it('report session takes --window for a stream, and says to use it when it is missing', async () => {
    const out = join(dir, 'report');
    await expect(run(['report', 'session', 'stream-1', '--out', out])).rejects.toThrow(
      'stream-1 is a stream, which has no end: name the samples to analyse with --window <first sample>-<last sample>, e.g. --window 0-499',
    );
    requests.length = 0;
    await run(['report', 'session', 'stream-1', '--out', out, '--window', '100-199', '--points', '5']);
    expect(requests.find((r) => r.url === '/api/analysis/compare')?.body).toMatchObject({ sessionIds: ['stream-1'], windows: { 'stream-1': { fromSample: 100, toSample: 199 } } });
    const sweeps = requests.filter((r) => r.url.startsWith('/api/analysis/sweep'));
    expect(sweeps.map((r) => r.url)).toEqual(['entropy', 'confidence', 'margin'].map((p) => `/api/analysis/sweep?sessionId=stream-1&policy=${p}&points=5&fromSample=100&toSample=199`));
    expect(await readFile(join(out, 'README.md'), 'utf8')).toContain('Only samples 100 to 199 of the run are analysed (--window).');
  });

  it('analyze compares the runs --window names without a --session', async () => {
    const policies = join(dir, 'policies.json');
    await writeFile(policies, JSON.stringify([{ kind: 'always-local' }]));
    requests.length = 0;
    await run(['analyze', '--policies', policies, '--window', 'stream-1:0-99']);
    expect(requests.map((r) => r.body)).toEqual([expect.objectContaining({ sessionIds: ['stream-1'], windows: { 'stream-1': { fromSample: 0, toSample: 99 } } })]);
    requests.length = 0;
    await run(['analyze', '--policies', policies, '--session', 'stream-1', '--window', 'stream-1:0-99']);
    expect((requests[0].body as { sessionIds: string[] }).sessionIds).toEqual(['stream-1']);
    await expect(run(['analyze', '--policies', policies])).rejects.toThrow(/^name the runs to compare: --session <id> \(a session\) or --window <id>:<from>-<to>/);
  });
});
