import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { bytesToScores } from '@ddnn/ddnn';
import { DeviceTransport } from './transport/device-transport';

export interface ProbeResult {
  ok: boolean;
  error?: string;
  /** Float32 class scores the device computed from its own view. */
  scores?: number[];
  /** Bytes of the bit-packed feature map it returned. */
  featuresBytes?: number;
  /** Compute time the device reported for the scores stage. */
  deviceLatencyMs?: number;
  /** Both stages, as the server saw them. */
  roundTripMs: number;
}

/** An operator's check that a device serves: one sample through the scores and features stages. */
@Injectable()
export class DeviceProbe {
  constructor(private readonly transport: DeviceTransport) {}

  async probe(deviceId: string, dataset: string, sampleId: string, timeoutMs: number): Promise<ProbeResult> {
    const sessionId = `probe-${randomUUID()}`;
    const t0 = performance.now();
    const elapsed = () => Math.round((performance.now() - t0) * 100) / 100;
    try {
      const s = await this.transport.request(deviceId, { stage: 'scores', sessionId, sampleIndex: 0, dataset, sampleId }, timeoutMs);
      if (!s.ok) return { ok: false, error: s.error, roundTripMs: elapsed() };
      if (!('scores' in s)) return { ok: false, error: 'the device answered without scores', roundTripMs: elapsed() };
      const f = await this.transport.request(deviceId, { stage: 'features', sessionId, sampleIndex: 0 }, timeoutMs);
      if (!f.ok) return { ok: false, error: f.error, roundTripMs: elapsed() };
      if (!('features' in f)) return { ok: false, error: 'the device answered without features', roundTripMs: elapsed() };
      return { ok: true, scores: [...bytesToScores(s.scores)], featuresBytes: f.features.byteLength, deviceLatencyMs: s.latencyMs, roundTripMs: elapsed() };
    } catch (e) {
      return { ok: false, error: (e as Error).message, roundTripMs: elapsed() };
    }
  }
}
