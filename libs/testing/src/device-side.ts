import { sampleTraffic, type StoredEvent } from '@ddnn/contracts';
import { sectionsIn } from './log-sections';

/** One device's share of a run's samples, counted by hand from its log. */
export interface DeviceCount {
  deviceId: string;
  /** Finished samples it answered (scores in time), over the finished samples (decided, or without an answer). */
  answerRate: number;
  /** Its own scores' argmax against the label, over the answered samples with a label. */
  accuracy: number | null;
  labelled: number;
  /** Its DeviceMissed events (scores and features). */
  missed: number;
  /** Its counted (not shadow) bytes sent, per finished sample. */
  bytesPerSample: number;
}

/**
 * What the compare page's device side must show for samples lo..hi of a run, counted straight from its log the
 * way an operator would by hand (a label is the sample's own or one posted later), independently of the product's
 * table code: the tests hold the page to it.
 */
export function countDeviceSide(events: readonly StoredEvent[], deviceIds: readonly string[], lo: number, hi: number): { samples: number; withMiss: number; devices: DeviceCount[] } {
  const inside = (i: number) => i >= lo && i <= hi;
  // Finished: decided, or ended without an answer (SampleUnanswered), which the device side counts as well.
  const decided = new Set<number>();
  const label = new Map<number, number>();
  const missedScores = new Set<string>();
  for (const e of events) {
    if (e.type === 'ExitDecided' && e.data.exited && !e.data.shadow && inside(e.data.sampleIndex)) decided.add(e.data.sampleIndex);
    else if (e.type === 'SampleUnanswered' && inside(e.data.sampleIndex)) decided.add(e.data.sampleIndex);
    else if ((e.type === 'SampleStarted' || e.type === 'SampleLabelled') && e.data.label !== null) label.set(e.data.sampleIndex, e.data.label);
    else if (e.type === 'DeviceMissed' && e.data.stage === 'scores') missedScores.add(`${e.data.deviceId}:${e.data.sampleIndex}`);
  }
  const sections = sectionsIn(events);
  const devices = deviceIds.map((id): DeviceCount => {
    let answered = 0;
    let labelled = 0;
    let right = 0;
    let missed = 0;
    let sent = 0;
    for (const e of events) {
      if (e.type === 'DeviceMissed' && e.data.deviceId === id && inside(e.data.sampleIndex)) missed++;
      const traffic = sampleTraffic(e);
      if (traffic && inside(traffic.sampleIndex)) for (const m of traffic.messages) if (!m.shadow && m.from === id) sent += m.bytes;
    }
    for (const x of sections) {
      if (x.tier !== 'device' || x.node !== id || x.shadow || !decided.has(x.sampleIndex) || missedScores.has(`${id}:${x.sampleIndex}`)) continue;
      answered++;
      const l = label.get(x.sampleIndex);
      if (l === undefined) continue;
      labelled++;
      const p = x.probabilities;
      if (p.indexOf(Math.max(...p)) === l) right++;
    }
    return { deviceId: id, answerRate: answered / decided.size, accuracy: labelled ? right / labelled : null, labelled, missed, bytesPerSample: sent / decided.size };
  });
  const withMiss = [...decided].filter((i) => deviceIds.some((d) => missedScores.has(`${d}:${i}`))).length;
  return { samples: decided.size, withMiss, devices };
}
