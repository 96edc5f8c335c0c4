import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { createTestDatabase, type TestDatabase } from '@ddnn/testing';
import { createApp } from '../bootstrap';
import { loadConfig } from '../config/config';
import { isApiPath } from './dashboard.module';

// The whole application over a small export laid out as `next build` writes it (trailingSlash: a folder per page),
// so the order in which the API's routes, the files and the 404 page answer is the real one.
let db: TestDatabase;
let dir: string;
let app: INestApplication;
let url: string;
const TOKEN = 'dashboard-test-token-0123456789';

beforeAll(async () => {
  db = await createTestDatabase();
  dir = mkdtempSync(path.join(tmpdir(), 'ddnn-dashboard-'));
  const out = path.join(dir, 'out');
  const page = (rel: string, text: string) => {
    mkdirSync(path.dirname(path.join(out, rel)), { recursive: true });
    writeFileSync(path.join(out, rel), text);
  };
  page('index.html', '<title>overview</title>');
  page('404.html', '<title>not found page</title>');
  page('monitoring/index.html', '<title>monitoring</title>');
  page('sessions/index.html', '<title>sessions</title>');
  page('sessions/new/index.html', '<title>start a session</title>');
  page('device/index.html', '<title>device</title>');
  page('_next/static/chunks/app.js', 'console.log(1)');
  const config = loadConfig({
    DATABASE_URL: db.url,
    DDNN_DATA_DIR: path.join(dir, 'data'),
    DDNN_DASHBOARD_DIR: out,
    DDNN_DEFAULT_MODEL_DIR: path.join(dir, 'no-model'),
    DDNN_DEMO: 'false',
    DDNN_ADMIN_TOKEN: TOKEN,
    LOG_LEVEL: 'error',
    HOST: '127.0.0.1',
  });
  app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
}, 120_000);

afterAll(async () => {
  await app?.close();
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const get = (p: string, init: RequestInit = {}) => fetch(`${url}${p}`, { redirect: 'manual', ...init });

describe('the dashboard export served by the API', () => {
  it('serves each page of the export, in its trailing-slash form and with a query string', async () => {
    for (const [p, title] of [
      ['/', 'overview'],
      ['/monitoring/', 'monitoring'],
      ['/sessions/new/', 'start a session'],
      ['/device/?id=garbage', 'device'],
      ['/sessions/?status=running&q=a%20b', 'sessions'],
    ]) {
      const res = await get(p);
      expect([p, res.status]).toEqual([p, 200]);
      await expect(res.text()).resolves.toContain(`<title>${title}</title>`);
    }
    const asset = await get('/_next/static/chunks/app.js');
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('javascript');
  });

  it('redirects a page without its trailing slash to it, keeping the query string', async () => {
    const res = await get('/device?id=abc');
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('/device/?id=abc');
  });

  it("answers unknown paths 404 with the export's 404 page", async () => {
    for (const p of ['/nonexistent', '/nonexistent/', '/favicon.ico', '/metrics/', '/sessions/nope/', '/_next/static/missing.js', '/x?y=1']) {
      const res = await get(p);
      expect([p, res.status]).toEqual([p, 404]);
      expect(res.headers.get('content-type')).toContain('text/html');
      await expect(res.text()).resolves.toContain('<title>not found page</title>');
    }
    const head = await get('/nonexistent', { method: 'HEAD' });
    expect(head.status).toBe(404);
  });

  it("leaves the API's paths to the API: its routes, its JSON 404s and /metrics", async () => {
    const health = await get('/api/health');
    expect(health.status).toBe(200);
    expect(health.headers.get('content-type')).toContain('application/json');
    const unknown = await get('/api/nonexistent');
    expect(unknown.status).toBe(404);
    await expect(unknown.json()).resolves.toMatchObject({ statusCode: 404, message: 'Cannot GET /api/nonexistent' });
    // A resource the API looks for and does not find: its own message, which the dashboard tells apart.
    const device = await get('/api/devices/garbage', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(device.status).toBe(404);
    await expect(device.json()).resolves.toMatchObject({ message: expect.not.stringMatching(/^Cannot GET/) });
    const metrics = await get('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    // Other methods on unknown paths stay the API's JSON 404.
    const post = await get('/nonexistent', { method: 'POST' });
    expect(post.status).toBe(404);
    expect(post.headers.get('content-type')).toContain('application/json');
  });
});

describe('isApiPath', () => {
  it('is the REST prefix, socket.io and /metrics exactly', () => {
    expect(['/api', '/api/', '/api/devices/x', '/socket.io/', '/metrics'].filter(isApiPath)).toHaveLength(5);
    expect(['/', '/apis', '/metrics/', '/monitoring/', '/socket.io'].filter(isApiPath)).toEqual([]);
  });
});
