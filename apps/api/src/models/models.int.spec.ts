import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { call, startTestApi, type TestApi } from '../../test/devices/test-app';
import { writeUntrainedCheckpoint } from '../../test/devices/test-fixtures';
import { ModelsService } from './models.service';

const ADMIN = 'test-operator-token-0123456789';

describe('models (real Postgres)', () => {
  let api: TestApi;
  let work: string;

  beforeAll(async () => {
    // The default model is a checkpoint present at start-up.
    work = mkdtempSync(path.join(tmpdir(), 'ddnn-models-'));
    await writeUntrainedCheckpoint(path.join(work, 'default'));
    mkdirSync(path.join(work, 'root'));
    api = await startTestApi({ DDNN_ADMIN_TOKEN: ADMIN, DDNN_DEFAULT_MODEL_DIR: path.join(work, 'default'), DDNN_MODELS_ROOTS: path.join(work, 'root') });
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

  it('versions a checkpoint by its weights too: one manifest with other weights is another version', async () => {
    const root = path.join(work, 'root');
    execFileSync('cp', ['-r', path.join(work, 'default'), path.join(root, 'swapped')]);
    execFileSync('cp', [path.join(root, 'swapped', 'device-1.bin'), path.join(root, 'swapped', 'device-0.bin')]);
    const swapped = await call(api, 'POST', '/models', ADMIN, { path: path.join(root, 'swapped'), id: 'swapped' });
    expect(swapped.status).toBe(201);
    const original = await call(api, 'GET', '/models/default', ADMIN);
    expect(swapped.body.version).toMatch(/^[0-9a-f]{12}$/);
    expect(swapped.body.version).not.toBe(original.body.version);
  });

  it('registers a server-side path under a models root and refuses bad checkpoints with the reason', async () => {
    const root = path.join(work, 'root');
    execFileSync('cp', ['-r', path.join(work, 'default'), path.join(root, 'copy')]);
    const ok = await call(api, 'POST', '/models', ADMIN, { path: path.join(root, 'copy'), id: 'copy' });
    expect(ok.status).toBe(201);
    expect(ok.body.path).toBe(path.join('<data>', 'models', 'copy')); // never an absolute server path
    expect((await call(api, 'POST', '/models', ADMIN, { path: path.join(root, 'copy'), id: 'copy' })).status).toBe(409);
    const none = await call(api, 'POST', '/models', ADMIN, { path: path.join(root, 'nothing') });
    expect(none.status).toBe(400);
    expect(none.body.message).toMatch(/no such folder/);
    const broken = path.join(root, 'broken');
    mkdirSync(broken);
    const manifest = JSON.parse(readFileSync(path.join(work, 'default', 'manifest.json'), 'utf8'));
    writeFileSync(path.join(broken, 'manifest.json'), JSON.stringify({ ...manifest, formatVersion: 99 }));
    expect((await call(api, 'POST', '/models', ADMIN, { path: broken })).body.message).toMatch(/format version 99 is not supported/);
    writeFileSync(path.join(broken, 'manifest.json'), JSON.stringify(manifest));
    expect((await call(api, 'POST', '/models', ADMIN, { path: broken })).body.message).toMatch(/section device-0 has no file device-0\.bin/);
    // The file's content never comes back, whatever it holds.
    writeFileSync(path.join(broken, 'manifest.json'), 'SECRET-CONTENT that is not JSON');
    const invalid = await call(api, 'POST', '/models', ADMIN, { path: broken });
    expect(invalid.status).toBe(400);
    expect(invalid.body.message).toMatch(/manifest\.json: invalid JSON/);
    expect(JSON.stringify(invalid.body)).not.toMatch(/SECRET|\/tmp\//);
  });

  it('keeps a model registered by path as it was registered when its folder is trained into again', async () => {
    const src = path.join(work, 'root', 'mine');
    execFileSync('cp', ['-r', path.join(work, 'default'), src]);
    const before = Object.fromEntries(['manifest.json', 'device-0.bin', 'cloud.bin'].map((f) => [f, readFileSync(path.join(src, f))]));
    const registered = await call(api, 'POST', '/models', ADMIN, { path: src, id: 'mine' });
    expect(registered.status).toBe(201);
    // What `ddnn train --out <folder> --force` does: other weights (and manifest) in the same folder.
    await writeUntrainedCheckpoint(path.join(work, 'retrained'), 8);
    execFileSync('cp', ['-r', `${path.join(work, 'retrained')}/.`, src]);
    expect(readFileSync(path.join(src, 'cloud.bin')).equals(before['cloud.bin'])).toBe(false);

    const now = await call(api, 'GET', '/models/mine', ADMIN);
    expect(now.body).toMatchObject({ version: registered.body.version, path: path.join('<data>', 'models', 'mine') });
    // Devices get, and the server opens, the registered weights: one version, one set of sections.
    const models = api.app.get(ModelsService);
    expect(Buffer.from((await models.deployMessage('mine', 'device-0')).weights).equals(before['device-0.bin'])).toBe(true);
    const { path: dir } = await models.checkpoint('mine');
    for (const [file, bytes] of Object.entries(before)) expect(readFileSync(path.join(dir, file)).equals(bytes)).toBe(true);
    // The folder may be registered again, as another model with the new weights.
    const again = await call(api, 'POST', '/models', ADMIN, { path: src, id: 'mine-2' });
    expect(again.status).toBe(201);
    expect(again.body.version).not.toBe(registered.body.version);
    expect(again.body.name).toBe('mine'); // named after the folder registered, not the copy
  });

  it('refuses a checkpoint with NaN weights, registered by path or uploaded (400, naming the section and tensor)', async () => {
    const nan = path.join(work, 'root', 'nan');
    execFileSync('cp', ['-r', path.join(work, 'default'), nan]);
    const cloud = readFileSync(path.join(nan, 'cloud.bin'));
    writeFileSync(path.join(nan, 'cloud.bin'), new Uint8Array(new Float32Array(cloud.length / 4).fill(NaN).buffer));
    const r = await call(api, 'POST', '/models', ADMIN, { path: nan, id: 'nan' });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/^<server>\/nan: cloud\.bin: section cloud tensor [\w.]+ holds NaN at index 0$/);
    const tgz = path.join(work, 'nan.tar.gz');
    execFileSync('tar', ['-czf', tgz, '-C', path.join(work, 'root'), 'nan']);
    const u = await upload(readFileSync(tgz), { id: 'nan-upload' });
    expect(u.status).toBe(400);
    expect(u.body.message).toMatch(/section cloud tensor [\w.]+ holds NaN/);
    expect((await call(api, 'GET', '/models/nan', ADMIN)).status).toBe(404);
  });

  it('reads nothing outside the models roots and does not say whether a path there exists', async () => {
    const root = path.join(work, 'root');
    const outsideExisting = await call(api, 'POST', '/models', ADMIN, { path: path.join(work, 'default') });
    const outsideMissing = await call(api, 'POST', '/models', ADMIN, { path: path.join(work, 'no-such-folder') });
    const parent = await call(api, 'POST', '/models', ADMIN, { path: path.join(root, '..', 'default') });
    // A symlink inside the root that leads out of it is judged where it leads.
    symlinkSync(path.join(work, 'default'), path.join(root, 'escape'));
    const viaLink = await call(api, 'POST', '/models', ADMIN, { path: path.join(root, 'escape') });
    for (const r of [outsideExisting, outsideMissing, parent, viaLink]) {
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'path must name a checkpoint folder under a models root (DDNN_MODELS_ROOTS)' });
    }
    // A manifest that is a link (to any file) is not followed.
    const linked = path.join(root, 'linked');
    mkdirSync(linked);
    symlinkSync('/etc/hostname', path.join(linked, 'manifest.json'));
    const r = await call(api, 'POST', '/models', ADMIN, { path: linked });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/manifest\.json is not a regular file/);
  });

  it('registers an uploaded .tar.gz or .tar archive and refuses what is not a checkpoint', async () => {
    const tgz = path.join(work, 'model.tar.gz');
    execFileSync('tar', ['-czf', tgz, '-C', work, 'default']);
    const r = await upload(readFileSync(tgz), { id: 'uploaded', name: 'six cameras' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ id: 'uploaded', name: 'six cameras', path: path.join('<data>', 'models', 'uploaded') });
    expect(readFileSync(path.join(api.dataDir, 'models', 'uploaded', 'device-3.bin')).equals(readFileSync(path.join(work, 'default', 'device-3.bin')))).toBe(true);
    const tar = path.join(work, 'flat.tar');
    execFileSync('tar', ['-cf', tar, '-C', path.join(work, 'default'), '.']);
    const flat = await upload(readFileSync(tar));
    expect(flat.status).toBe(201);
    // Neither a name given nor one in the manifest: the model's id names it, not the folder it was unpacked in.
    expect(flat.body.name).toBe(flat.body.id);

    const garbage = await upload(Buffer.from('definitely not a tarball, just text that goes on for a while '.repeat(20)));
    expect(garbage.status).toBe(400);
    // An id the platform cannot keep says what an id may be: its length and its first character too.
    for (const id of ['.hidden', 'x'.repeat(101)]) {
      const badId = await upload(Buffer.from('irrelevant'), { id });
      expect(badId).toMatchObject({ status: 400, body: { message: expect.stringContaining('id must be 1 to 100 letters, digits, _ . or -, starting with a letter or digit') } });
    }
    const zip = await upload(Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(200)]));
    expect(zip).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^a \.zip archive: pack the checkpoint folder as \.tar or \.tar\.gz/) } });
    const partial = path.join(work, 'partial.tar.gz');
    execFileSync('tar', ['-czf', partial, '-C', path.join(work, 'default'), 'manifest.json', 'device-0.bin']);
    const p = await upload(readFileSync(partial));
    expect(p.status).toBe(400);
    expect(p.body.message).toMatch(/section device-1 has no file device-1\.bin/);
    const missing = await fetch(`${api.url}/api/models/upload`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` }, body: new FormData() });
    expect(missing.status).toBe(400);
  });
});
