import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createGzip } from 'node:zlib';
import { pack as tarPack } from 'tar-stream';
import { createTestDatabase, type TestDatabase, writeUntrainedCheckpoint } from '@ddnn/testing';
import { type ApiProcess, peakRss, startApi, tempDir } from '@ddnn/testing';

const ADMIN = 'e2e-operator-token-0123456789';
const MiB = 1024 * 1024;
/** The default entry limit (DDNN_ARCHIVE_MAX_ENTRY_BYTES); memory must stay within a small multiple of it. */
const ENTRY_LIMIT = 64 * MiB;

interface Entry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  linkname?: string;
  data?: Buffer;
  /** A file of this many zero bytes, streamed (for bombs). */
  zeros?: number;
}

/** Builds a .tar (or .tar.gz) in memory from entries; zero-filled files are streamed through the packer. */
async function buildArchive(entries: Entry[], gzip = true): Promise<Buffer> {
  const pack = tarPack();
  const chunks: Buffer[] = [];
  const out = gzip ? pack.pipe(createGzip({ level: 1 })) : pack;
  out.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((resolve, reject) => {
    out.on('end', resolve);
    out.on('error', reject);
  });
  for (const e of entries) {
    if (e.zeros !== undefined) {
      const stream = pack.entry({ name: e.name, size: e.zeros });
      const zero = Buffer.alloc(MiB);
      for (let left = e.zeros; left > 0; left -= MiB) {
        if (!stream.write(left >= MiB ? zero : zero.subarray(0, left))) await once(stream, 'drain');
      }
      stream.end();
      await once(stream, 'finish').catch(() => undefined);
    } else {
      pack.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname }, e.data ?? Buffer.alloc(0));
    }
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Every file and folder under `dir` with its size, sorted: a snapshot to compare before and after. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of fs.readdirSync(d)) {
      const p = path.join(d, name);
      const st = fs.lstatSync(p);
      out.push(`${path.relative(dir, p)} ${st.isDirectory() ? 'dir' : st.size}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}


describe('model archive uploads against the built API', () => {
  let db: TestDatabase;
  let dataDir: string;
  let work: string;
  let api: ApiProcess;
  let checkpoint: { name: string; data: Buffer }[];

  const upload = async (archive: Buffer, id: string) => {
    const form = new FormData();
    form.append('archive', new Blob([new Uint8Array(archive)]), 'model.tar.gz');
    form.append('id', id);
    const res = await fetch(`${api.url}/api/models/upload`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` }, body: form });
    return { status: res.status, body: (await res.json()) as { message?: string; id?: string; path?: string } };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = tempDir('ddnn-e2e-archives-');
    work = tempDir('ddnn-e2e-archive-src-');
    await writeUntrainedCheckpoint(path.join(work, 'cp'));
    checkpoint = fs.readdirSync(path.join(work, 'cp')).map((name) => ({ name, data: fs.readFileSync(path.join(work, 'cp', name)) }));
    api = await startApi({ DATABASE_URL: db.url, DDNN_DATA_DIR: dataDir, DDNN_ADMIN_TOKEN: ADMIN });
  }, 180_000);

  afterAll(async () => {
    await api?.stop('SIGTERM');
    await db?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('refuses hostile archives with the right status, writes nothing outside its temp folder, keeps models and memory', async () => {
    // An existing model whose folder must survive every failed upload, including ones naming its id.
    const kept = await upload(await buildArchive(checkpoint.map((f) => ({ name: `cp/${f.name}`, data: f.data }))), 'keep');
    expect(kept.status).toBe(201);
    expect(kept.body.path).toBe(path.join('<data>', 'models', 'keep'));
    const baseline = snapshot(dataDir);
    expect(baseline).toContain(`models${path.sep}keep${path.sep}manifest.json ${fs.statSync(path.join(work, 'cp', 'manifest.json')).size}`);
    const escape = path.join(os.tmpdir(), `ddnn-escape-${randomUUID()}`);
    const valid = checkpoint.map((f) => ({ name: f.name, data: f.data }));
    const whole = await buildArchive(valid);
    const rssBefore = peakRss(api.child.pid);

    const cases: { what: string; archive: () => Promise<Buffer>; status: number; message: RegExp }[] = [
      { what: 'parent-path traversal', archive: () => buildArchive([...valid, { name: '../../evil.bin', data: Buffer.from('x') }]), status: 400, message: /parent paths/ },
      { what: 'absolute path', archive: () => buildArchive([{ name: `${escape}/manifest.json`, data: Buffer.from('{}') }, ...valid]), status: 400, message: /absolute paths/ },
      { what: 'symlink', archive: () => buildArchive([{ name: 'manifest.json', type: 'symlink', linkname: '/etc/passwd' }, ...valid.slice(1)]), status: 400, message: /links are not allowed/ },
      { what: 'hardlink', archive: () => buildArchive([...valid.filter((f) => f.name !== 'cloud.bin'), { name: 'cloud.bin', type: 'link', linkname: '/etc/passwd' }]), status: 400, message: /links are not allowed/ },
      { what: 'one entry of 1 GiB of zeros', archive: () => buildArchive([{ name: 'cloud.bin', zeros: 1024 * MiB }]), status: 413, message: /DDNN_ARCHIVE_MAX_ENTRY_BYTES/ },
      { what: 'an entry of 60 MiB of zeros (under the entry limit)', archive: () => buildArchive([{ name: 'cloud.bin', zeros: 60 * MiB }]), status: 413, message: /DDNN_ARCHIVE_MAX_RATIO/ },
      { what: '5,000 entries', archive: () => buildArchive(Array.from({ length: 5000 }, (_, i) => ({ name: `device-${i}.bin` }))), status: 413, message: /DDNN_ARCHIVE_MAX_ENTRIES/ },
      { what: 'a truncated archive', archive: async () => whole.subarray(0, Math.floor(whole.length / 2)), status: 400, message: /not a complete, readable/ },
      { what: 'a non-archive', archive: async () => Buffer.from('definitely not a tarball '.repeat(100)), status: 400, message: /not a complete, readable/ },
      { what: 'a zip archive', archive: async () => Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(200)]), status: 400, message: /a \.zip archive: pack the checkpoint folder as \.tar or \.tar\.gz/ },
      { what: 'a file a checkpoint does not hold', archive: () => buildArchive([...valid, { name: 'notes.txt', data: Buffer.from('hi') }]), status: 400, message: /not a file a checkpoint holds/ },
    ];
    for (const c of cases) {
      const archive = await c.archive();
      const r = await upload(archive, `bad-${cases.indexOf(c)}`);
      expect({ what: c.what, status: r.status }).toEqual({ what: c.what, status: c.status });
      expect(r.body.message).toMatch(c.message);
      expect(snapshot(dataDir)).toEqual(baseline); // nothing new, nothing removed, the temp folder empty again
      const onExisting = await upload(archive, 'keep');
      expect(onExisting.status).toBe(409);
      expect(snapshot(dataDir)).toEqual(baseline);
    }
    expect(fs.existsSync(escape)).toBe(false);
    expect(fs.existsSync(path.join(dataDir, '..', 'evil.bin'))).toBe(false);
    expect((await fetch(`${api.url}/api/models/keep`, { headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(200);

    const rssAfter = peakRss(api.child.pid);
    process.stdout.write(`model archives: API peak RSS ${(rssBefore / MiB).toFixed(0)} MiB before the bombs, ${(rssAfter / MiB).toFixed(0)} MiB after\n`);
    expect(rssAfter - rssBefore).toBeLessThan(2 * ENTRY_LIMIT);
  }, 300_000);

  it('lets one of four concurrent uploads with one id win; the others get 409', async () => {
    const archive = await buildArchive(checkpoint.map((f) => ({ name: f.name, data: f.data })));
    const results = await Promise.all([0, 1, 2, 3].map(() => upload(archive, 'race')));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
    for (const f of checkpoint) expect(fs.readFileSync(path.join(dataDir, 'models', 'race', f.name)).equals(f.data)).toBe(true);
    expect(fs.readdirSync(path.join(dataDir, 'tmp'))).toEqual([]);
  });
});
