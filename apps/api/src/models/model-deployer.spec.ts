import type { DeployAck, DeployMessage } from '@ddnn/contracts';
import type { ConnectedDevice, DeviceTransport } from '../devices/transport/device-transport';
import { ModelDeployer } from './model-deployer';
import type { ModelsService } from './models.service';
import type { RunsInUseRepository, RunUsingDevice } from './runs-in-use.repository';

const device = (deviceId: string, over: Partial<ConnectedDevice> = {}): ConnectedDevice => ({
  deviceId,
  name: deviceId,
  role: 'end-device',
  view: 0,
  kind: 'simulated',
  connectionId: `${deviceId}#1`,
  modelId: null,
  modelVersion: null,
  section: null,
  ...over,
});

function deployer(connected: ConnectedDevice[], refuse: string[] = [], inUse = new Map<string, RunUsingDevice[]>()) {
  const sent: { deviceId: string; section: string }[] = [];
  const models = {
    checkpoint: async () => ({ version: 'v2', path: '/models/m' }),
    deployMessage: async (modelId: string, section: string) => ({ modelId, modelVersion: 'v2', section }) as unknown as DeployMessage,
  } as unknown as ModelsService;
  const transport = {
    connectedDevices: async () => connected,
    deploy: async (deviceId: string, msg: DeployMessage): Promise<DeployAck> => {
      sent.push({ deviceId, section: msg.section });
      return refuse.includes(deviceId) ? { ok: false, error: 'no room' } : { ok: true, modelId: msg.modelId, modelVersion: msg.modelVersion, section: msg.section, bytes: 1 };
    },
  } as unknown as DeviceTransport;
  const runsInUse = { byDevice: async () => inUse } as unknown as RunsInUseRepository;
  return { d: new ModelDeployer(models, transport, runsInUse), sent };
}

describe('ModelDeployer', () => {
  it('before a session: each device gets its section, devices that have it are skipped, the absent and refusing are reported', async () => {
    const { d, sent } = deployer(
      [
        device('a', { view: 0 }),
        device('b', { view: 1, modelId: 'm', modelVersion: 'v2', section: 'device-1' }),
        device('c', { view: 2, modelId: 'm', modelVersion: 'v1', section: 'device-2' }),
        device('edge-node', { role: 'edge', view: null }),
        device('r', { view: 3 }),
      ],
      ['r'],
    );
    const out = await d.ensure(
      {
        devices: [
          { deviceId: 'a', view: 0, edge: 'e' },
          { deviceId: 'b', view: 1, edge: 'e' },
          { deviceId: 'c', view: 2, edge: 'e' },
          { deviceId: 'r', view: 3, edge: 'e' },
          { deviceId: 'gone', view: 4, edge: 'e' },
        ],
        edges: [
          { name: 'e', deviceId: 'edge-node' },
          { name: 'sim', deviceId: null },
        ],
      },
      'm',
    );
    expect(sent).toEqual([
      { deviceId: 'a', section: 'device-0' },
      { deviceId: 'c', section: 'device-2' },
      { deviceId: 'r', section: 'device-3' },
      { deviceId: 'edge-node', section: 'edge-e' },
    ]);
    expect(out).toEqual([
      { deviceId: 'a', section: 'device-0', ok: true },
      { deviceId: 'b', section: 'device-1', ok: true, skipped: true },
      { deviceId: 'c', section: 'device-2', ok: true },
      { deviceId: 'r', section: 'device-3', ok: false, error: 'no room' },
      { deviceId: 'gone', section: 'device-4', ok: false, error: 'not connected' },
      { deviceId: 'edge-node', section: 'edge-e', ok: true },
    ]);
  });

  it('on request: every connected end device by default, re-sending what it has; an edge needs its section named', async () => {
    const { d, sent } = deployer([device('a', { view: 5, modelId: 'm', modelVersion: 'v2', section: 'device-5' }), device('x', { role: 'edge', view: null })]);
    expect(await d.deploy('m', null)).toEqual([{ deviceId: 'a', section: 'device-5', ok: true }]);
    expect(await d.deploy('m', [{ deviceId: 'x' }])).toEqual([{ deviceId: 'x', section: null, ok: false, error: expect.stringMatching(/explicit section/) }]);
    expect(sent).toEqual([{ deviceId: 'a', section: 'device-5' }]);
  });

  it('on request: refuses a device a queued or running run computes with, unless it is the very section the run installed', async () => {
    const inUse = new Map<string, RunUsingDevice[]>([
      ['a', [{ runId: 'run-1', kind: 'stream', modelId: 'default', section: 'device-0' }]],
      ['b', [{ runId: 'run-1', kind: 'stream', modelId: 'default', section: 'device-1' }]],
    ]);
    const { d, sent } = deployer([device('a', { view: 0 }), device('b', { view: 1 }), device('c', { view: 2 })], [], inUse);
    expect(await d.deploy('alt', null)).toEqual([
      { deviceId: 'a', section: 'device-0', ok: false, error: 'serves stream run-1 (device-0 of model default): stop the run first' },
      { deviceId: 'b', section: 'device-1', ok: false, error: 'serves stream run-1 (device-1 of model default): stop the run first' },
      { deviceId: 'c', section: 'device-2', ok: true },
    ]);
    // The same model, another section: refused too (device a would compute view 1 for the run's view 0).
    expect((await d.deploy('default', [{ deviceId: 'a', section: 'device-1' }]))[0]).toMatchObject({ ok: false, error: expect.stringMatching(/stop the run first/) });
    expect(await d.deploy('default', [{ deviceId: 'a' }])).toEqual([{ deviceId: 'a', section: 'device-0', ok: true }]);
    expect(sent).toEqual([
      { deviceId: 'c', section: 'device-2' },
      { deviceId: 'a', section: 'device-0' },
    ]);
  });
});
