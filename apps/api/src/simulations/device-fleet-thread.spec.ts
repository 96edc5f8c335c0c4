import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { InferScoresReply } from '@ddnn/contracts';
import { checkpointRuntimeBindings, DeviceRuntime } from '@ddnn/ddnn';
import { writeSmallDataset, writeUntrainedCheckpoint } from '../../test/devices/test-fixtures';
import { DeviceFleetThread, FleetThreadExitedError } from './device-fleet-thread';

let dir: string;
let sampleIds: string[];
const deployMessage = (view: number) => ({
  modelId: 'm',
  modelVersion: 'v1',
  section: `device-${view}`,
  manifest: JSON.parse(readFileSync(path.join(dir, 'model', 'manifest.json'), 'utf8')) as unknown,
  weights: new Uint8Array(readFileSync(path.join(dir, 'model', `device-${view}.bin`))),
});
const scoresRequest = (i: number) => ({ stage: 'scores', sessionId: 's', sampleIndex: i, dataset: 'synth', sampleId: sampleIds[i] });

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ddnn-fleet-'));
  await writeUntrainedCheckpoint(path.join(dir, 'model'));
  await writeSmallDataset(dir);
  sampleIds = readFileSync(path.join(dir, 'datasets', 'synth', 'labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[0]);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('DeviceFleetThread', () => {
  it("serves six devices' calls of one turn from its thread, with the bytes of a runtime in this thread", async () => {
    const thread = new DeviceFleetThread(path.join(dir, 'datasets'));
    try {
      const hosts = [0, 1, 2, 3, 4, 5].map((v) => thread.host(`d${v}`, 'end-device', v));
      expect(await Promise.all(hosts.map((h, v) => h.deploy(deployMessage(v))))).toEqual(hosts.map((_, v) => expect.objectContaining({ ok: true, section: `device-${v}` })));
      // Malformed calls are answered, not lost, and leave the thread serving.
      expect(await hosts[0].infer({ stage: 'teleport' })).toMatchObject({ ok: false });
      expect(await hosts[0].deploy({ modelId: 'm' })).toMatchObject({ ok: false, error: expect.stringMatching(/^deploy: /) });

      const replies = (await Promise.all(hosts.map((h) => h.infer(scoresRequest(3))))) as InferScoresReply[];
      for (const [v, reply] of replies.entries()) {
        const local = new DeviceRuntime({ role: 'end-device', view: v, bindings: checkpointRuntimeBindings({ dataRoot: path.join(dir, 'datasets') }) });
        await local.deploy(deployMessage(v));
        const direct = (await local.infer(scoresRequest(3))) as InferScoresReply;
        if (!reply.ok || !direct.ok) throw new Error(`scores failed: ${JSON.stringify(reply)}`);
        expect(Buffer.from(reply.scores).equals(Buffer.from(direct.scores))).toBe(true);
        expect(reply.sampleIndex).toBe(3);
      }
      // The features stay in the thread, with the device that computed them.
      expect(await hosts[2].infer({ stage: 'features', sessionId: 's', sampleIndex: 3 })).toMatchObject({ ok: true, sampleIndex: 3 });
    } finally {
      await thread.terminate();
    }
  }, 60_000);

  it('fails the calls in flight and tells its devices when the thread dies', async () => {
    const thread = new DeviceFleetThread(path.join(dir, 'datasets'));
    const exits: string[] = [];
    thread.onExit((reason) => exits.push(reason));
    const host = thread.host('d0', 'end-device', 0);
    expect(await host.deploy(deployMessage(0))).toMatchObject({ ok: true });
    const inFlight = host.infer(scoresRequest(0));
    await (thread as unknown as { worker: Worker }).worker.terminate();
    await expect(inFlight).rejects.toBeInstanceOf(FleetThreadExitedError);
    await expect(host.infer(scoresRequest(1))).rejects.toThrow(/exited/);
    expect(exits).toEqual([expect.stringMatching(/the fleet's thread exited/)]);
  }, 60_000);
});
