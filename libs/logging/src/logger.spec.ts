import { Writable } from 'node:stream';
import { createLogger, logFormat, logLevel } from './logger';
import { PinoNestLogger } from './nest-logger';

/** A destination that keeps what the logger wrote. */
function capture(isTTY = false) {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as Writable & { isTTY?: boolean };
  stream.isTTY = isTTY;
  return { stream, text: () => chunks.join(''), lines: () => chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('createLogger', () => {
  it('writes one JSON object per line with level name, time, program name and message', () => {
    const out = capture();
    const log = createLogger({ name: 'device', destination: out.stream, base: { nodeId: 'n1' } });
    log.info({ sampleIndex: 3 }, 'scored');
    const [line] = out.lines();
    expect(line).toMatchObject({ level: 'info', name: 'device', nodeId: 'n1', sampleIndex: 3, msg: 'scored' });
    expect(new Date(line.time as string).toISOString()).toBe(line.time);
  });

  it('redacts credentials by field name and inside strings (URL passwords, bearer headers, ddnn tokens, query keys)', () => {
    const out = capture();
    const log = createLogger({ name: 'api', destination: out.stream });
    log.warn(
      { token: 'ddnn_dev_abcdefghijklmnop', device: { provisioningKey: 'pk-secret-1' }, req: { headers: { authorization: 'Bearer abc.def' } }, databaseUrl: 'postgres://app:hunter2@db:5432/ddnn' },
      'cannot reach postgres://admin:s3cret@10.0.0.1/ddnn with Authorization: Bearer tok-123456 and ddnn_pk_0123456789abcdef at http://h/x?token=t0k3n&a=1',
    );
    log.error(new Error('connect failed for postgresql://u:topsecret@h/db'));
    const text = out.text();
    for (const secret of ['hunter2', 's3cret', 'tok-123456', '0123456789abcdef', 'abcdefghijklmnop', 'pk-secret-1', 'abc.def', 't0k3n', 'topsecret']) {
      expect(text).not.toContain(secret);
    }
    const [warn, error] = out.lines();
    expect(warn).toMatchObject({ token: '[redacted]', device: { provisioningKey: '[redacted]' }, databaseUrl: 'postgres://app:[redacted]@db:5432/ddnn' });
    expect(warn.msg).toBe('cannot reach postgres://admin:[redacted]@10.0.0.1/ddnn with Authorization: Bearer [redacted] and ddnn_pk_[redacted] at http://h/x?token=[redacted]&a=1');
    expect((error.err as { message: string }).message).toBe('connect failed for postgresql://u:[redacted]@h/db');
  });

  it('honours the level, accepting the API historic names (log = info, verbose = trace)', () => {
    const out = capture();
    const log = createLogger({ name: 'api', destination: out.stream, level: 'warn' });
    log.info('hidden');
    log.warn('shown');
    expect(out.lines().map((l) => l.msg)).toEqual(['shown']);
    expect(logLevel('log')).toBe('info');
    expect(logLevel('verbose')).toBe('trace');
    expect(logLevel(undefined, 'warn')).toBe('warn');
    expect(logLevel('nonsense')).toBe('info');
  });

  it('is pretty (not JSON) when asked, or by default at a terminal; JSON otherwise', () => {
    expect(logFormat('json', { isTTY: true })).toBe('json');
    expect(logFormat('pretty', { isTTY: false })).toBe('pretty');
    expect(logFormat(undefined, { isTTY: true })).toBe('pretty');
    expect(logFormat(undefined, { isTTY: false })).toBe('json');
    const out = capture();
    createLogger({ name: 'cli', destination: out.stream, format: 'pretty' }).info({ context: 'Train', password: 'pw-123' }, 'epoch 3 done');
    expect(out.text()).toMatch(/INFO.*\[Train\] epoch 3 done/);
    expect(out.text()).not.toContain('pw-123');
    expect(() => JSON.parse(out.text())).toThrow();
  });
});

describe('PinoNestLogger', () => {
  it("maps Nest's levels and trailing context onto pino, moving framework narration to debug", () => {
    const out = capture();
    const nest = new PinoNestLogger(createLogger({ name: 'api', destination: out.stream, level: 'debug' }));
    nest.log('ready', 'ddnn');
    nest.error('append failed', 'Error: boom\n    at x (y.ts:1)', 'Sessions');
    nest.warn('slow', 'Devices');
    nest.log('AppModule dependencies initialized', 'InstanceLoader');
    nest.error(new Error('bad postgres://u:pw1234@h/db'), undefined, 'Db');
    expect(out.lines()).toMatchObject([
      { level: 'info', context: 'ddnn', msg: 'ready' },
      { level: 'error', context: 'Sessions', msg: 'append failed', stack: 'Error: boom\n    at x (y.ts:1)' },
      { level: 'warn', context: 'Devices', msg: 'slow' },
      { level: 'debug', context: 'InstanceLoader' },
      { level: 'error', context: 'Db', msg: 'bad postgres://u:[redacted]@h/db' },
    ]);
  });
});
