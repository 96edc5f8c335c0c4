import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@ddnn/testing';
import { type ApiProcess, startApi, tempDir } from '@ddnn/testing';

const ADMIN = 'e2e-operator-token-0123456789';

/**
 * A body or query string the platform refuses is answered with the status README "Configuration" and SECURITY.md
 * promise, on the routes that exist: the body parsers and the input-limits middleware run before routing, and
 * their errors used to fall through to the router's "Cannot PATCH /api/..." 404 (a client posting labels was told
 * its stream did not exist).
 */
describe('refused input on real routes', () => {
  let db: TestDatabase;
  let dataDir: string;
  let api: ApiProcess;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = tempDir('ddnn-e2e-limits-');
    api = await startApi({ DATABASE_URL: db.url, DDNN_DATA_DIR: dataDir, DDNN_ADMIN_TOKEN: ADMIN, DDNN_BODY_MAX_BYTES: String(64 * 1024), DDNN_STRING_MAX_LENGTH: '1000' });
  }, 180_000);

  afterAll(async () => {
    await api?.stop('SIGTERM');
    await db?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const send = async (method: string, path: string, body?: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', ...headers },
      body,
    });
    return { status: res.status, body: (await res.json()) as { statusCode: number; message: string } };
  };

  it('runs as deployed: the dashboard is served at / (its static server is what turned these into 404s)', async () => {
    const res = await fetch(`${api.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
  });

  const session = `/api/sessions/${randomUUID()}`;
  const labels = `/api/streams/${randomUUID()}/labels`;
  const cases: [string, string, string, Record<string, string>, number, RegExp][] = [
    ['malformed JSON', session, '{bad', {}, 400, /JSON|Unexpected|parse/i],
    ['a NUL byte', session, '{"note":"a\\u0000b"}', {}, 400, /note holds a NUL byte/],
    ['a lone surrogate', labels, '{"labels":[{"sampleId":"\\ud800","class":0}]}', {}, 400, /lone UTF-16 surrogate/],
    ['a string over the limit', session, JSON.stringify({ note: 'x'.repeat(2000) }), {}, 400, /note is longer than 1000 characters/],
    ['nesting over the limit', session, `{"note":${'['.repeat(40)}${']'.repeat(40)}}`, {}, 400, /nested deeper/],
    ['an array over the limit', labels, JSON.stringify({ labels: Array(10_001).fill(0) }), {}, 400, /more than \d+ elements/],
    ['a body over the limit', labels, JSON.stringify({ labels: 'y'.repeat(200_000) }), {}, 413, /larger|limit|too large/i],
    ['an unknown charset', session, '{}', { 'content-type': 'application/json; charset=x-made-up' }, 415, /charset/i],
    ['an unknown content encoding', session, '{}', { 'content-encoding': 'x-made-up' }, 415, /encoding/i],
    ['a body that does not inflate', session, '{}', { 'content-encoding': 'gzip' }, 400, /header check/i],
  ];

  it.each(cases)('%s: the documented status, not the router 404', async (_what, path, body, headers, status, message) => {
    const method = path.endsWith('/labels') ? 'POST' : 'PATCH';
    const res = await send(method, path, body, headers);
    expect({ status: res.status, message: res.body.message }).toEqual({ status, message: expect.stringMatching(message) });
  });

  it('a query string over the limits or not text: 400 on the route, the value not echoed', async () => {
    for (const path of ['/api/health?x=%00', `/api/sessions?tag=${'%00'}`]) {
      const res = await send('GET', path);
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/NUL byte/);
      expect(res.body.message).not.toContain('\u0000');
    }
  });
});
