import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '@ddnn/testing';
import { type ApiProcess, peakRss, repoRoot, startApi, tempDir } from '@ddnn/testing';

const ADMIN = 'e2e-operator-token-0123456789';
const MiB = 1024 * 1024;
/** Bounds: the run stops at whichever comes first. */
const MAX_REQUESTS = 6000;
const MAX_MS = 150_000;
const RSS_BOUND = 700 * MiB;

interface Schema {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
}
interface Operation {
  parameters?: { name: string; in: 'path' | 'query' | 'header'; schema?: Schema }[];
  requestBody?: { content: Record<string, { schema?: Schema }> };
}
interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}
interface FuzzRequest {
  method: string;
  url: string;
  token: string | null;
  contentType?: string;
  body?: string | Uint8Array;
}

const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
const PATH_VALUES = [
  '00000000-0000-0000-0000-000000000000',
  randomUUID(),
  'default',
  '-1',
  '0',
  '99999999999999999999999999',
  '1e308',
  'NaN',
  'x'.repeat(3000),
  'a%00b',
  '%00',
  '%ED%A0%80', // a lone surrogate, UTF-8 encoded
  '%FF%FE',
  '..%2F..%2F..%2Fetc%2Fpasswd',
  '%2Fetc%2Fpasswd',
  '%E2%80%AE%F0%9F%92%A9',
];
const QUERY_VALUES = ['-1', '0', '99999999999999999999', '1e308', 'NaN', 'Infinity', '%00', 'a%00', '%ED%A0%80', 'x'.repeat(8000), '0:99999999999999999999', '1:2:3', '{"kind":', '[]', encodeURIComponent(deep(200))];
const WRONG_VALUES: unknown[] = [null, true, -1, 1e308, -1e308, 2 ** 64, '', 'x'.repeat(70_000), '\u0000', 'a\u0000b', '\ud800', {}, [], [[[[[[]]]]]], Array(20_000).fill(0), { $ref: '#/' }, '../../etc/passwd'];
const RAW_BODIES = [
  '',
  '{',
  '{"a":',
  'null',
  '[]',
  '"x"',
  '1e999',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  deep(5000),
  `{"a":${deep(40)}}`,
  '{"x":"\\u0000"}',
  '{"x":"\\ud800"}',
  `{"x":"${'y'.repeat(2 * MiB)}"}`,
  `[${Array(20_000).fill('1').join(',')}]`,
  '\u0000',
];

function resolve(doc: OpenApi, s: Schema | undefined): Schema | undefined {
  if (s?.$ref) return doc.components?.schemas?.[s.$ref.split('/').pop() ?? ''];
  return s;
}

/** Requests for one operation: bad path parameters, bad query values, bad bodies; with and without tokens. */
function requestsFor(doc: OpenApi, route: string, method: string, op: Operation, base: string): FuzzRequest[] {
  const params = op.parameters ?? [];
  const pathParams = params.filter((p) => p.in === 'path').map((p) => p.name);
  const queryParams = params.filter((p) => p.in === 'query').map((p) => p.name);
  const fill = (values: Record<string, string>) => route.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? PATH_VALUES[0]);
  const out: Omit<FuzzRequest, 'token'>[] = [];
  const add = (p: string, query = '', extra: Partial<FuzzRequest> = {}) => out.push({ method, url: `${base}${p}${query}`, ...extra });

  for (const v of PATH_VALUES) for (const name of pathParams) add(fill({ [name]: v }));
  for (const q of queryParams) for (const v of QUERY_VALUES) add(fill({}), `?${q}=${v}`);
  add(fill({}), '?%00=1&a=%ED%A0%80');

  const content = op.requestBody?.content ?? {};
  if (content['application/json']) {
    for (const raw of RAW_BODIES) add(fill({}), '', { contentType: 'application/json', body: raw });
    const schema = resolve(doc, content['application/json'].schema);
    for (const prop of Object.keys(schema?.properties ?? {})) {
      for (const v of WRONG_VALUES) add(fill({}), '', { contentType: 'application/json', body: JSON.stringify({ [prop]: v }) });
    }
  }
  if (content['multipart/form-data']) {
    add(fill({}), '', { contentType: 'multipart/form-data; boundary=xyz', body: '--xyz\r\nContent-Disposition: form-data; name="archive"; filename="a"\r\n\r\nabc' });
    add(fill({}), '', { contentType: 'multipart/form-data; boundary=xyz', body: '--xyz\r\nContent-Disposition: form-data; name="id"\r\n\r\n../../x\r\n--xyz--\r\n' });
    add(fill({}), '', { contentType: 'multipart/form-data; boundary=xyz', body: '--xyz\r\nContent-Disposition: form-data; name="name"\r\n\r\na\u0000b\r\n--xyz\r\nContent-Disposition: form-data; name="archive"; filename="a"\r\n\r\nnot a tar\r\n--xyz--\r\n' });
    add(fill({}), '', { contentType: 'multipart/form-data', body: 'no boundary' });
  }
  if (!op.requestBody && method !== 'get') add(fill({}), '', { contentType: 'application/json', body: deep(5000) });
  // Operator token, none and a made-up one (the last only on the plain request: the guard answers first).
  return [
    ...out.map((r) => ({ ...r, token: ADMIN })),
    ...out.map((r) => ({ ...r, token: null })),
    { method, url: `${base}${fill({})}`, token: 'ddnn_dev_not-a-real-token' },
  ];
}


describe('fuzzing every route and method of the OpenAPI document', () => {
  let db: TestDatabase;
  let dataDir: string;
  let api: ApiProcess;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = tempDir('ddnn-e2e-fuzz-');
    api = await startApi({ DATABASE_URL: db.url, DDNN_DATA_DIR: dataDir, DDNN_ADMIN_TOKEN: ADMIN });
  }, 180_000);

  afterAll(async () => {
    await api?.stop('SIGTERM');
    await db?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers no 5xx, leaks no server path or stack, and stays within its memory bound', async () => {
    const doc = (await (await fetch(`${api.url}/api/docs-json`)).json()) as OpenApi;
    const requests: FuzzRequest[] = [];
    let operations = 0;
    for (const [route, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        operations++;
        requests.push(...requestsFor(doc, route, method, op, api.url));
      }
    }
    expect(operations).toBeGreaterThan(25);

    const secrets = [repoRoot, dataDir, fs.realpathSync(os.tmpdir()) + path.sep, os.tmpdir() + path.sep, db.url, '/node_modules/'];
    const stack = /\n\s+at .+[:(]\d+:\d+\)?/;
    const byStatus = new Map<number, number>();
    const failures: string[] = [];
    const started = Date.now();
    let sent = 0;
    for (const r of requests.slice(0, MAX_REQUESTS)) {
      if (Date.now() - started > MAX_MS) break;
      const headers: Record<string, string> = {};
      if (r.token) headers.authorization = `Bearer ${r.token}`;
      if (r.contentType) headers['content-type'] = r.contentType;
      const res = await fetch(r.url, { method: r.method.toUpperCase(), headers, body: r.body, signal: AbortSignal.timeout(30_000) });
      const text = await res.text();
      sent++;
      byStatus.set(res.status, (byStatus.get(res.status) ?? 0) + 1);
      const what = `${r.method.toUpperCase()} ${r.url.slice(api.url.length, api.url.length + 120)} (${r.token ? 'token' : 'no token'}, body ${String(r.body ?? '').slice(0, 60)})`;
      if (res.status >= 500) failures.push(`${res.status} ${what}: ${text.slice(0, 200)}`);
      const leaked = secrets.find((s) => text.includes(s));
      if (leaked) failures.push(`leaks ${leaked}: ${what}: ${text.slice(0, 200)}`);
      if (stack.test(text)) failures.push(`stack in ${what}: ${text.slice(0, 200)}`);
      expect(api.child.exitCode).toBeNull();
    }
    const rss = peakRss(api.child.pid);
    const counts = [...byStatus.entries()].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}: ${n}`).join(', ');
    process.stdout.write(`fuzz: ${sent} requests over ${operations} operations in ${((Date.now() - started) / 1000).toFixed(1)} s; by status ${counts}; API peak RSS ${(rss / MiB).toFixed(0)} MiB\n`);
    expect(failures.slice(0, 20)).toEqual([]);
    expect(sent).toBeGreaterThan(1000);
    expect(rss).toBeLessThan(RSS_BOUND);
  }, 400_000);
});
