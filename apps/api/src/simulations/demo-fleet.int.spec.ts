import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SimulationView } from '@ddnn/contracts';
import { DemoSession, DEMO_FLEET_SIMULATION_ID } from '../sessions/demo-session';
import { call, createTestDatabase, startTestApi, type TestApi, type TestDatabase } from '../../test/devices/test-app';
import { writeSmallDataset, writeUntrainedCheckpoint } from '../../test/devices/test-fixtures';

const ADMIN = 'test-operator-token-0123456789';

jest.setTimeout(240_000);

// The demo's dataset simulation, as npm start runs it (no DDNN_SIMULATED_DEVICES; its stream off, to keep the test to
// the fleet), across a restart on the same database and data folder.
describe("the demo's dataset fleet across restarts (real Postgres, in-process API)", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ddnn-demo-fleet-'));
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await writeUntrainedCheckpoint(path.join(dataDir, 'default-model'));
    await writeSmallDataset(dataDir);
  });
  afterAll(async () => {
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const boot = async () => {
    const api = await startTestApi(
      { DDNN_ADMIN_TOKEN: ADMIN, DDNN_DATA_DIR: dataDir, DDNN_DEFAULT_MODEL_DIR: path.join(dataDir, 'default-model'), DDNN_DEMO: 'true', DDNN_DEMO_STREAM_RATE: '0', DDNN_DEMO_DATASET: 'synth' },
      db,
    );
    await api.app.get(DemoSession).ready;
    return api;
  };
  const fleet = async (api: TestApi) => (await call<SimulationView[]>(api, 'GET', '/simulations', ADMIN)).body.filter((s) => s.source === 'dataset');

  it('keeps its id and its devices: what /api/simulations/<id> answered before a restart it answers after', async () => {
    let before: SimulationView[];
    const first = await boot();
    try {
      before = await fleet(first);
      expect(before.map((s) => s.id)).toEqual([DEMO_FLEET_SIMULATION_ID]);
    } finally {
      await first.close();
    }
    const second = await boot();
    try {
      const after = await fleet(second);
      expect(after.map((s) => s.id)).toEqual([DEMO_FLEET_SIMULATION_ID]);
      expect(after[0].devices).toEqual(before[0].devices);
      expect((await call<SimulationView>(second, 'GET', `/simulations/${DEMO_FLEET_SIMULATION_ID}`, ADMIN)).status).toBe(200);
    } finally {
      await second.close();
    }
  });
});
