import { type ArgumentsHost, BadRequestException, Logger } from '@nestjs/common';
import { ConflictError, InvalidInputError, LimitExceededError, UnavailableError } from '@ddnn/contracts';
import { isCheckpoint } from '../common/checkpoint.validator';
import { MessageScrubber } from './error-response';
import { PlatformExceptionFilter } from './exception.filter';
import { checkValue, jsonDepth } from './input-limits';

const LIMITS = { maxDepth: 8, maxStringLength: 10, maxArrayLength: 3 };

function respond(e: unknown, request: Record<string, unknown> = {}) {
  const sent: { status?: number; body?: Record<string, unknown> } = {};
  const res = {
    headersSent: false,
    status(s: number) {
      sent.status = s;
      return this;
    },
    json(b: Record<string, unknown>) {
      sent.body = b;
    },
  };
  const host = { getType: () => 'http', switchToHttp: () => ({ getRequest: () => ({ method: 'GET', ...request }), getResponse: () => res }) } as unknown as ArgumentsHost;
  new PlatformExceptionFilter(new MessageScrubber({ '/srv/ddnn/data': '<data>', '/srv/ddnn': '<repo>' })).catch(e, host);
  return sent;
}

describe('the exception filter', () => {
  it('maps each kind of domain error to its status, with its message', () => {
    expect(respond(new InvalidInputError('body.x must be a number'))).toEqual({ status: 400, body: { statusCode: 400, message: 'body.x must be a number', error: 'Bad Request' } });
    expect(respond(new ConflictError('a model with id m exists')).status).toBe(409);
    expect(respond(new LimitExceededError('too many entries')).status).toBe(413);
    expect(respond(new UnavailableError('the database is unavailable')).status).toBe(503);
    expect(respond(new BadRequestException(['a must be a string', 'b is required'])).body?.message).toBe('a must be a string; b is required');
  });

  it('answers any other error with 500 and a request id only, and logs the stack under that id', () => {
    const logged: string[] = [];
    const spy = jest.spyOn(Logger.prototype, 'error').mockImplementation((m: unknown) => void logged.push(String(m)));
    try {
      const r = respond(new TypeError('cannot read x of undefined at /srv/ddnn/apps/api/x.js'), { id: 'req-42' });
      expect(r).toEqual({ status: 500, body: { statusCode: 500, message: 'internal error: the server log has the details under this request id', requestId: 'req-42' } });
      expect(logged.join('\n')).toMatch(/request req-42 GET .*cannot read x of undefined/);
      expect(respond(new Error('boom')).body?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      spy.mockRestore();
    }
  });

  it('scrubs server folders, URLs and addresses from 4xx messages', () => {
    const r = respond(new InvalidInputError('/srv/ddnn/data/models/x and /srv/ddnn/models/y via postgres://u:p@db:5432/x at 10.0.0.5:5432'));
    expect(r.body?.message).toBe('<data>/models/x and <repo>/models/y via <url> at <address>');
  });

  it('answers an echoed name as one printable line without bidirectional overrides', () => {
    const r = respond(new InvalidInputError('archive entry "cat\u202Egnp.exe\nX-Injected: 1" is not a regular file'));
    expect(r.body?.message).toBe('archive entry "cat\ufffdgnp.exe X-Injected: 1" is not a regular file');
  });

  it('maps a refused database connection to 503 and body-parser errors to 4xx naming the body', () => {
    expect(respond(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toEqual({
      status: 503,
      body: { statusCode: 503, message: 'the database is unavailable: retry later', error: 'Service Unavailable' },
    });
    expect(respond(Object.assign(new Error('request entity too large'), { status: 413, type: 'entity.too.large', limit: 1024 })).body?.message).toMatch(/DDNN_BODY_MAX_BYTES/);
  });
});

describe('input limits', () => {
  it('counts JSON depth on raw bytes, ignoring brackets inside strings', () => {
    expect(jsonDepth(Buffer.from('{"a":[1,{"b":2}]}'), 100)).toBe(3);
    expect(jsonDepth(Buffer.from('{"a":"[[[[\\"[["}'), 100)).toBe(1);
    expect(jsonDepth(Buffer.from('['.repeat(5000)), 32)).toBe(33); // stops counting just past the limit
  });

  it('names the first field with a NUL byte, a lone surrogate, or over a size limit', () => {
    expect(() => checkValue({ a: ['ok', 'x\u0000'] }, 'body', LIMITS)).toThrow('body.a[1] holds a NUL byte');
    expect(() => checkValue({ a: '\ud800' }, 'body', LIMITS)).toThrow('body.a holds a lone UTF-16 surrogate');
    expect(() => checkValue({ a: '\ud83d\ude00' }, 'body', LIMITS)).not.toThrow(); // a surrogate pair is fine
    expect(() => checkValue({ s: 'x'.repeat(11) }, 'query', LIMITS)).toThrow('query.s is longer than 10 characters');
    expect(() => checkValue([1, 2, 3, 4], 'body', LIMITS)).toThrow('body has more than 3 elements');
    let deep: unknown = 1;
    for (let i = 0; i < 9; i++) deep = [deep];
    expect(() => checkValue(deep, 'body', LIMITS)).toThrow(/nested deeper than 8/);
  });

  it('accepts checkpoints only within xid8 and bigint', () => {
    expect(isCheckpoint('0:0')).toBe(true);
    expect(isCheckpoint('18446744073709551615:9223372036854775807')).toBe(true);
    expect(isCheckpoint('18446744073709551616:1')).toBe(false);
    expect(isCheckpoint('1:9223372036854775808')).toBe(false);
    expect(isCheckpoint('99999999999999999999:1')).toBe(false);
    expect(isCheckpoint('1:2:3')).toBe(false);
  });
});
