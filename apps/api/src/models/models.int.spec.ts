import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { call, startTestApi, type TestApi } from '../../test/devices/test-app';
import { writeUntrainedCheckpoint } from '../../test/devices/test-fixtures';

const ADMIN = 'test-operator-token-0123456789';

describe('models (real Postgres)', () => {
  let api: TestApi;
  let work: string;

  beforeAll(async () => {
    // The default model is a checkpoint present at start-up.
    work = mkdtempSync(path.join(tmpdir(), 'ddnn-models-'));
    await writeUntrainedCheckpoint(path.join(work, 'default'));
    api = await startTestApi({ DDNN_ADMIN_TOKEN: ADMIN, DDNN_DEFAULT_MODEL_DIR: path.join(work, 'default') });
  }, 120_000);
  afterAll(async () => {
    await api.close();
    rmSync(work, { recursive: true, force: true });
  });

  const upload = async (file: Buffer, fields: Record<string, string> = {}) => {
    const form = new FormData();
    form.append('archive', new Blob([new Uint8Array(file)]), 'model.tar.gz');
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    const res = await fetch(`${api.url}/api/models/upload`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` }, body: form });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('registers the default model at start-up with its sections', async () => {
    const m = await call(api, 'GET', '/models/default', ADMIN);
    expect(m.status).toBe(200);
    expect(m.body.sections.map((s: { name: string }) => s.name).sort()).toEqual(['cloud', 'device-0', 'device-1', 'device-2', 'device-3', 'device-4', 'device-5', 'local']);
    expect(m.body.version).toMatch(/^[0-9a-f]{12}$/);
    expect((await call(api, 'GET', '/models', null)).status).toBe(401);
  });

  it('registers a server-side path and refuses bad checkpoints with the reason', async () => {
    const ok = await call(api, 'POST', '/models', ADMIN, { path: path.join(work, 'default'), id: 'copy' });
    expect(ok.status).toBe(201);
    expect((await call(api, 'POST', '/models', ADMIN, { path: path.join(work, 'default'), id: 'copy' })).status).toBe(409);
    const none = await call(api, 'POST', '/models', ADMIN, { path: path.join(work, 'nothing') });
    expect(none.status).toBe(400);
    expect(none.body.message).toMatch(/no readable manifest\.json/);
    const broken = path.join(work, 'broken');
    mkdirSync(broken);
    const manifest = JSON.parse(readFileSync(path.join(work, 'default', 'manifest.json'), 'utf8'));
    writeFileSync(path.join(broken, 'manifest.json'), JSON.stringify({ ...manifest, formatVersion: 99 }));
    expect((await call(api, 'POST', '/models', ADMIN, { path: broken })).body.message).toMatch(/format version 99 is not supported/);
    writeFileSync(path.join(broken, 'manifest.json'), JSON.stringify(manifest));
    expect((await call(api, 'POST', '/models', ADMIN, { path: broken })).body.message).toMatch(/section device-0 has no file device-0\.bin/);
  });

  it('registers an uploaded .tar.gz or .tar archive and refuses what is not a checkpoint', async () => {
    const tgz = path.join(work, 'model.tar.gz');
    execFileSync('tar', ['-czf', tgz, '-C', work, 'default']);
    const r = await upload(readFileSync(tgz), { id: 'uploaded', name: 'six cameras' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ id: 'uploaded', name: 'six cameras', path: path.join(api.dataDir, 'models', 'uploaded') });
    expect(readFileSync(path.join(api.dataDir, 'models', 'uploaded', 'device-3.bin')).equals(readFileSync(path.join(work, 'default', 'device-3.bin')))).toBe(true);
    const tar = path.join(work, 'flat.tar');
    execFileSync('tar', ['-cf', tar, '-C', path.join(work, 'default'), '.']);
    expect((await upload(readFileSync(tar))).status).toBe(201);

    const garbage = await upload(Buffer.from('definitely not a tarball, just text that goes on for a while '.repeat(20)));
    expect(garbage.status).toBe(400);
    const partial = path.join(work, 'partial.tar.gz');
    execFileSync('tar', ['-czf', partial, '-C', path.join(work, 'default'), 'manifest.json', 'device-0.bin']);
    const p = await upload(readFileSync(partial));
    expect(p.status).toBe(400);
    expect(p.body.message).toMatch(/section device-1 has no file device-1\.bin/);
    const missing = await fetch(`${api.url}/api/models/upload`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` }, body: new FormData() });
    expect(missing.status).toBe(400);
  });
});
