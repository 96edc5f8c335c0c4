// The thread of a simulated fleet (see DeviceFleetThread): the fleet's DeviceRuntimes compute here, off the API's
// event loop, as real devices compute on their own hardware.
import { parentPort, workerData } from 'node:worker_threads';
import type { DeviceRole } from '@ddnn/contracts';
import { checkpointRuntimeBindings, DeviceRuntime } from '@ddnn/ddnn';
import type { FleetReplies, FleetReply, FleetRequests } from './device-fleet-protocol';

const port = parentPort;
if (!port) throw new Error('device-fleet.worker runs as a worker thread');
const bindings = checkpointRuntimeBindings({ dataRoot: (workerData as { dataRoot: string }).dataRoot });
const runtimes = new Map<string, DeviceRuntime>();

function runtime(deviceId: string, role: DeviceRole, view: number | null): DeviceRuntime {
  let rt = runtimes.get(deviceId);
  if (!rt) runtimes.set(deviceId, (rt = new DeviceRuntime({ role, view, bindings })));
  return rt;
}

let outbox: FleetReply[] = [];
function send(reply: FleetReply): void {
  if (outbox.length === 0) setImmediate(flush);
  outbox.push(reply);
}
function flush(): void {
  const replies: FleetReplies = outbox;
  outbox = [];
  port!.postMessage(replies);
}

port.on('message', (requests: FleetRequests) => {
  for (const req of requests) {
    const rt = runtime(req.deviceId, req.role, req.view);
    const work = req.op === 'deploy' ? rt.deploy(req.payload) : rt.infer(req.payload);
    // DeviceRuntime answers { ok: false } rather than throwing; a throw is still an answer, never a lost call.
    work.then(
      (reply) => send({ id: req.id, reply }),
      (e: unknown) => send({ id: req.id, error: e instanceof Error ? e.message : String(e) }),
    );
  }
});
