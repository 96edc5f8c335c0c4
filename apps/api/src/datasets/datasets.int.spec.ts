import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { readDatasetHeader, writeSynthDataset } from '@ddnn/datasets';
import { call, startTestApi, type TestApi } from '../../test/devices/test-app';

const TOKEN = 'test-operator-token';

describe('datasets API', () => {
  let api: TestApi;
  let dir: string;

  beforeAll(async () => {
    api = await startTestApi({ DDNN_ADMIN_TOKEN: TOKEN });
    dir = path.join(api.dataDir, 'datasets', 'tiny');
    await writeSynthDataset(dir, { samples: 12, seed: 3 });
  }, 120_000);
  afterAll(() => api.close());

  it('lists and describes datasets for operators only', async () => {
    expect((await call(api, 'GET', '/datasets')).status).toBe(401);
    const list = await call(api, 'GET', '/datasets', TOKEN);
    expect(list.status).toBe(200);
    expect(list.body).toEqual([
      { name: 'tiny', classes: ['car', 'bus', 'person'], views: 6, splits: expect.objectContaining({}) },
    ]);
    expect(list.body[0].splits.train + list.body[0].splits.test).toBe(12);
    const missing = await call(api, 'GET', '/datasets/nope', TOKEN);
    expect(missing.status).toBe(404);
    expect(missing.body.message).toMatch(/dataset 'nope' not found/);
  });

  it('serves the exact PNG of a captured view and explains a missing one', async () => {
    const { rows } = await readDatasetHeader(dir);
    const captured: [string, number][] = [];
    const uncaptured: [string, number][] = [];
    for (const r of rows) {
      for (let v = 0; v < 6; v++) (fs.existsSync(path.join(dir, 'samples', r.sample, `${v}.png`)) ? captured : uncaptured).push([r.sample, v]);
    }
    const [sample, view] = captured[0];
    const url = `${api.url}/api/datasets/tiny/samples/${sample}/views/${view}.png`;
    expect((await fetch(url)).status).toBe(401);
    const res = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('cache-control')).toBe('private, max-age=3600');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.equals(fs.readFileSync(path.join(dir, 'samples', sample, `${view}.png`)))).toBe(true);
    expect(PNG.sync.read(bytes).width).toBeGreaterThan(0);

    if (uncaptured.length) {
      const [s, v] = uncaptured[0];
      const r = await call(api, 'GET', `/datasets/tiny/samples/${s}/views/${v}.png`, TOKEN);
      expect(r.status).toBe(404);
      expect(r.body.message).toBe(`view ${v} of sample '${s}' was not captured`);
      // An error is JSON, said so, and not cached (the image's headers went out with it).
      const raw = await fetch(`${api.url}/api/datasets/tiny/samples/${s}/views/${v}.png`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(raw.headers.get('content-type')).toMatch(/^application\/json/);
      expect(raw.headers.get('cache-control')).toBeNull();
    }
    const outOfRange = await call(api, 'GET', `/datasets/tiny/samples/${sample}/views/6.png`, TOKEN);
    expect(outOfRange.body.message).toBe("dataset 'tiny' has views 0..5, not 6");
    expect((await call(api, 'GET', `/datasets/tiny/samples/${sample}/views/-1.png`, TOKEN)).body.message).toBe("dataset 'tiny' has views 0..5, not -1");
    const traversal = await call(api, 'GET', `/datasets/tiny/samples/..%2F..%2Fmanifest/views/0.png`, TOKEN);
    expect(traversal.status).toBe(404);
    const notANumber = await call(api, 'GET', `/datasets/tiny/samples/${sample}/views/x.png`, TOKEN);
    expect(notANumber.status).toBe(400);
  });

  it('summarises a dataset from its images and draws its contact sheet, operators only', async () => {
    expect((await call(api, 'GET', '/datasets/tiny/summary')).status).toBe(401);
    const res = await call(api, 'GET', '/datasets/tiny/summary', TOKEN);
    expect(res.status).toBe(200);
    const { rows } = await readDatasetHeader(dir);
    // The missing rate of each view is what the files say, counted here independently of the server.
    for (let v = 0; v < 6; v++) {
      const present = rows.filter((r) => fs.existsSync(path.join(dir, 'samples', r.sample, `${v}.png`))).length;
      expect(res.body.perView[v]).toEqual({ view: v, present, missingRate: 1 - present / rows.length });
    }
    expect(res.body.samples).toBe(12);
    expect(res.body.classes.map((c: { name: string }) => c.name)).toEqual(['car', 'bus', 'person']);
    expect(res.body.viewsPresentHistogram.reduce((a: number, b: number) => a + b, 0)).toBe(12);

    const sheet = await fetch(`${api.url}/api/datasets/tiny/sheet.png`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(sheet.status).toBe(200);
    expect(sheet.headers.get('content-type')).toBe('image/png');
    const png = PNG.sync.read(Buffer.from(await sheet.arrayBuffer()));
    expect(png.width).toBeGreaterThan(6 * 32);
    expect((await call(api, 'GET', '/datasets/nope/summary', TOKEN)).status).toBe(404);
  }, 60_000);

  it('answers 422 naming the dataset when its images do not parse, without a server path', async () => {
    const broken = path.join(api.dataDir, 'datasets', 'broken');
    await writeSynthDataset(broken, { samples: 6, seed: 4 });
    const { rows } = await readDatasetHeader(broken);
    const sampleDir = path.join(broken, 'samples', rows[0].sample);
    const first = fs.readdirSync(sampleDir).find((f) => f.endsWith('.png'))!;
    fs.writeFileSync(path.join(sampleDir, first), 'not a png');
    const res = await call(api, 'GET', '/datasets/broken/summary', TOKEN);
    expect(res.status).toBe(422);
    expect(res.body.message).toMatch(/^dataset 'broken' cannot be read/);
    expect(JSON.stringify(res.body)).not.toContain(api.dataDir);
    // Still a working server: the good dataset answers.
    expect((await call(api, 'GET', '/datasets/tiny/summary', TOKEN)).status).toBe(200);
  }, 60_000);

  it('refuses a FIFO among the files without a read that blocks the server, and lists the datasets a broken folder sits beside', async () => {
    const piped = path.join(api.dataDir, 'datasets', 'piped');
    await writeSynthDataset(piped, { samples: 6, seed: 5 });
    const { rows } = await readDatasetHeader(piped);
    const sampleDir = path.join(piped, 'samples', rows[0].sample);
    const view = fs.readdirSync(sampleDir).find((f) => f.endsWith('.png'))!;
    fs.rmSync(path.join(sampleDir, view));
    // Nothing ever writes into it: a read of it would wait forever (readFileSync froze the whole API).
    execFileSync('mkfifo', [path.join(sampleDir, view)]);
    const summary = await call(api, 'GET', '/datasets/piped/summary', TOKEN);
    expect(summary.status).toBe(422);
    expect(summary.body.message).toMatch(/^dataset 'piped' cannot be read: .*not a regular file: a named pipe \(FIFO\)/);
    const image = await call(api, 'GET', `/datasets/piped/samples/${rows[0].sample}/views/${view}`, TOKEN);
    expect(image.status).toBe(422);
    expect(image.body.message).toMatch(/not a regular file: a named pipe/);
    expect((await call(api, 'GET', '/health')).status).toBe(200);

    const bad = path.join(api.dataDir, 'datasets', 'badmanifest');
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, 'manifest.json'), '{');
    // A dataset kept elsewhere and linked in is listed (its pages and runs read through the link); a dangling link is not.
    const elsewhere = fs.mkdtempSync(path.join(path.dirname(api.dataDir), 'ddnn-linked-'));
    await writeSynthDataset(path.join(elsewhere, 'big'), { samples: 6, seed: 5 });
    fs.symlinkSync(path.join(elsewhere, 'big'), path.join(api.dataDir, 'datasets', 'linked'));
    fs.symlinkSync(path.join(elsewhere, 'gone'), path.join(api.dataDir, 'datasets', 'dangling'));
    const list = await call(api, 'GET', '/datasets', TOKEN);
    expect(list.status).toBe(200);
    expect(list.body.map((d: { name: string }) => d.name)).toEqual(['broken', 'linked', 'piped', 'tiny']);
    expect((await call(api, 'GET', '/datasets/linked/summary', TOKEN)).body.samples).toBe(6);
    fs.rmSync(elsewhere, { recursive: true, force: true });
    const one = await call(api, 'GET', '/datasets/badmanifest', TOKEN);
    expect(one.status).toBe(422);
    expect(one.body.message).toMatch(/^dataset 'badmanifest' cannot be read: .*malformed manifest/);
    expect(JSON.stringify(one.body)).not.toContain(api.dataDir);
  }, 60_000);
});
