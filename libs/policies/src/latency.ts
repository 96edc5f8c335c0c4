import type { LinkModel, LinkSpec } from '@ddnn/contracts';
import type { SessionSampleTable } from './session-table';

/** Estimated end-to-end latency of each sample if it is answered at each exit (ms). */
export interface LatencyColumns {
  local: Float64Array;
  edge: Float64Array | null;
  cloud: Float64Array;
  raw: Float64Array;
}

const FREE: LinkSpec = { latencyMs: 0, bandwidthKbps: Infinity };

/** The link spec for a message from one node to another (see LinkModel for the lookup order). */
export function linkFor(model: LinkModel | undefined, from: string, to: string, fromTier: string, toTier: string): LinkSpec {
  return model?.links?.[`${from}->${to}`] ?? model?.links?.[`${fromTier}->${toTier}`] ?? model?.default ?? FREE;
}

/** Time to deliver one message: link latency plus serialization at the link's bandwidth. */
export function transferMs(link: LinkSpec, bytes: number): number {
  return link.latencyMs + (bytes * 8) / link.bandwidthKbps;
}

/**
 * Per-sample latency estimates from measured section latencies and a link model. Devices work in
 * parallel (a stage lasts as long as its slowest answering device, or the deadline when one timed out);
 * asking devices for features costs one latency of their device->local link; the raw baseline reuses the
 * measured cloud section latency.
 */
export function latencyColumns(t: SessionSampleTable, model: LinkModel | undefined): LatencyColumns {
  const key = JSON.stringify(model ?? null);
  let byModel = cache.get(t);
  if (!byModel) cache.set(t, (byModel = new Map()));
  let cols = byModel.get(key);
  if (!cols) {
    if (byModel.size >= 8) byModel.clear(); // a few link models per table are plenty; bound the memory
    byModel.set(key, (cols = computeLatencyColumns(t, model)));
  }
  return cols;
}

const cache = new WeakMap<SessionSampleTable, Map<string, LatencyColumns>>();

function computeLatencyColumns(t: SessionSampleTable, model: LinkModel | undefined): LatencyColumns {
  const { n } = t;
  const D = t.devices.length;
  const E = t.edges.length;
  const m = t.messageSizes;
  const devScores = t.devices.map((d) => transferMs(linkFor(model, d.deviceId, 'local', 'device', 'local'), m.scoresBytes));
  const devRequest = t.devices.map((d) => linkFor(model, d.deviceId, 'local', 'device', 'local').latencyMs);
  const devFeatures = t.devices.map((d) =>
    transferMs(linkFor(model, d.deviceId, d.next, 'device', d.next === 'cloud' ? 'cloud' : 'edge'), m.featuresBytes),
  );
  const devRaw = t.devices.map((d) => transferMs(linkFor(model, d.deviceId, 'cloud', 'device', 'cloud'), m.rawBytes));
  const edgeUp = t.edges.map((e) => transferMs(linkFor(model, e.name, 'cloud', 'edge', 'cloud'), m.edgeFeaturesBytes ?? 0));
  const edgeOf = t.devices.map((d) => t.edges.findIndex((e) => e.name === d.next));

  const out: LatencyColumns = {
    local: new Float64Array(n),
    edge: t.edge ? new Float64Array(n) : null,
    cloud: new Float64Array(n),
    raw: new Float64Array(n),
  };
  const edgeArrival = new Float64Array(E);
  for (let s = 0; s < n; s++) {
    let deviceStage = t.scoresTimedOut[s] ? t.deadlineMs : 0;
    let raw = 0;
    let direct = 0;
    edgeArrival.fill(0);
    for (let d = 0; d < D; d++) {
      const k = s * D + d;
      if (t.device.answered[k]) {
        deviceStage = Math.max(deviceStage, t.device.latencyMs[k] + devScores[d]);
        raw = Math.max(raw, devRaw[d]);
      }
      if (t.device.featuresSent[k]) {
        const arrival = devRequest[d] + devFeatures[d];
        if (edgeOf[d] >= 0) edgeArrival[edgeOf[d]] = Math.max(edgeArrival[edgeOf[d]], arrival);
        else direct = Math.max(direct, arrival);
      }
    }
    const wait = t.featuresTimedOut[s] ? t.deadlineMs : 0;
    const local = deviceStage + t.local.latencyMs[s];
    out.local[s] = local;
    out.raw[s] = raw + t.cloud.latencyMs[s];
    if (out.edge) {
      let edgeStage = wait;
      let up = 0;
      for (let e = 0; e < E; e++) {
        if (!t.edgeNodes.computed[s * E + e]) continue;
        edgeStage = Math.max(edgeStage, edgeArrival[e] + t.edgeNodes.latencyMs[s * E + e]);
        up = Math.max(up, edgeUp[e]);
      }
      out.edge[s] = local + edgeStage;
      out.cloud[s] = local + Math.max(edgeStage + up, direct, wait) + t.cloud.latencyMs[s];
    } else {
      out.cloud[s] = local + Math.max(direct, wait) + t.cloud.latencyMs[s];
    }
  }
  return out;
}
