import path from 'node:path';
import type { Socket } from 'socket.io-client';
import { DeviceEvents, type InferReply } from '@ddnn/contracts';
import { checkpointRuntimeBindings, DeviceRuntime } from '@ddnn/ddnn';
import { waitFor } from '@ddnn/testing';
import { call, useDeviceTestApi } from '../../test/devices/test-app';

const ADMIN = 'test-operator-token-0123456789';

describe('a device reconnecting during a stream (real Postgres, real sockets)', () => {
  const fixture = useDeviceTestApi(ADMIN);

  /** What a connection received, in order: its deploys, and its infer requests with the replies they got. */
  interface Served {
    socket: Socket;
    received: { event: 'deploy' | 'infer'; stage?: string; reply?: InferReply }[];
  }

  /** An agent process: a fresh runtime (no section) on a new connection with the device's token, as after a restart. */
  async function agent(token: string, view: number): Promise<Served> {
    const socket = await fixture.connect(token);
    const rt = new DeviceRuntime({ role: 'end-device', view, bindings: checkpointRuntimeBindings({ dataRoot: path.join(fixture.api.dataDir, 'datasets') }) });
    const served: Served = { socket, received: [] };
    socket.on(DeviceEvents.deploy, (p: unknown, ack: (r: unknown) => void) => {
      served.received.push({ event: 'deploy' });
      void rt.deploy(p).then(ack);
    });
    socket.on(DeviceEvents.infer, (p: unknown, ack: (r: unknown) => void) => {
      const entry: Served['received'][number] = { event: 'infer', stage: (p as { stage?: string }).stage };
      served.received.push(entry);
      void rt.infer(p).then((reply) => {
        entry.reply = reply;
        ack(reply);
      });
    });
    return served;
  }

  it('gets its section again before the stream asks it for a sample', async () => {
    const cams = [await fixture.provision('cam-0', 0), await fixture.provision('cam-1', 1)];
    const first = await Promise.all(cams.map((c, view) => agent(c.token, view)));
    await waitFor('both cameras connected', async () => ((await fixture.transport.connectedDevices()).length >= 2 ? true : undefined));
    const created = await call<{ id: string }>(fixture.api, 'POST', '/streams', ADMIN, {
      modelId: 'm1',
      topology: { devices: cams.map((c, view) => ({ deviceId: c.deviceId, view })) },
      policy: { kind: 'entropy', thresholds: { local: 0.5 } },
      rate: 20,
      deadlineMs: 5000,
      replay: { dataset: 'synth', split: 'test' },
    });
    expect(created.status).toBe(201);
    const answered = (s: Served) => s.received.filter((r) => r.event === 'infer' && r.reply?.ok).length;
    // Features are not counted: those of a sample scored just before a restart are gone with the old process.
    const failedScores = (s: Served) => s.received.filter((r) => r.stage === 'scores' && r.reply && !r.reply.ok);
    await waitFor('cam-1 serving the stream', async () => (answered(first[1]) >= 3 ? true : undefined), 30_000);

    // cam-1's agent restarts, three times: its old connection goes, a new process (no section) connects with the same
    // token. The first thing each new connection gets is its section; every sample it is then asked to score it scores.
    // The stream used to ask it for the next sample before its run's poll (each second) redeployed it, and that
    // sample missed it.
    let current = first[1];
    for (let restart = 0; restart < 3; restart++) {
      current.socket.disconnect();
      const restarted = await agent(cams[1].token, 1);
      await waitFor('cam-1 serving the stream again', async () => (answered(restarted) >= 3 ? true : undefined), 30_000);
      expect(restarted.received[0]).toEqual({ event: 'deploy' });
      expect(failedScores(restarted)).toEqual([]);
      current = restarted;
    }
    expect((await call(fixture.api, 'POST', `/streams/${created.body.id}/stop`, ADMIN)).status).toBe(200);
    const missed = await fixture.api.sql<{ data: { deviceId: string; detail: string } }>(
      `SELECT data FROM events WHERE stream_id = $1 AND type = 'DeviceMissed'`,
      [`stream-${created.body.id}`],
    );
    expect(missed.map((m) => m.data.detail).filter((d) => /no model section installed/.test(d))).toEqual([]);
    // The other camera was never held up: it answered every request the stream sent it.
    expect(failedScores(first[0])).toEqual([]);
  }, 90_000);
});
