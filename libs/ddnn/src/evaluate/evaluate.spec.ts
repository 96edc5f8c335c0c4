import { metricsAt, sweepThresholds, thresholdGrid, type EvalRun } from './evaluate';

const sure = (c: number) => Float32Array.from([0, 1, 2], (k) => (k === c ? 0.98 : 0.01));
const unsure = (c: number) => Float32Array.from([0, 1, 2], (k) => (k === c ? 0.4 : 0.3));

/**
 * 4 samples, 3 devices (device 2 failed; device 1 did not capture sample 2, so it sent nothing for it): local is
 * sure on samples 0 and 1 (right, then wrong), unsure on 2 and 3.
 */
const run: EvalRun = {
  labels: Int32Array.from([0, 1, 2, 0]),
  classes: 3,
  devices: [0, 1, 2],
  failed: [2],
  devicePredictions: [Int32Array.from([0, 1, 2, 1]), Int32Array.from([0, 0, -1, 0]), null],
  senders: Uint8Array.from([2, 2, 1, 2]),
  local: [sure(0), sure(2), unsure(2), unsure(1)],
  edge: null,
  cloud: [sure(0), sure(1), sure(1), sure(0)],
  featureBytes: 128,
  scoreBytes: 12,
  // native images of the live devices' captured views: sample 2's second view was not captured
  rawBytes: Float64Array.from([6144, 6144, 3072, 6144]),
};

describe('exit metrics', () => {
  it('exits locally iff eta < T and scores the exit that answered', () => {
    const m = metricsAt(run, 0.5);
    expect(m.localExitRate).toBe(0.5);
    // sample 0 local right, 1 local wrong, 2 cloud wrong, 3 cloud right
    expect(m.overall).toBe(0.5);
    expect(m.local).toBe(0.5);
    expect(m.cloud).toBe(0.75);
    // a device's accuracy over every sample: one it did not capture is not answered, so not right
    expect(m.individual).toEqual([0.75, 0.5, null]);
  });

  it('counts the bytes of the devices that sent: scores always, features only when the sample goes on', () => {
    const m = metricsAt(run, 0.5);
    // samples 0 and 1 exit locally (two devices' scores each); 2 goes on with one sender, 3 with two
    expect(m.bytesPerSample).toBe((2 * 12 + 2 * 12 + 140 + 2 * 140) / 4);
    expect(m.rawBytesPerSample).toBe((3 * 6144 + 3072) / 4);
    expect(m.commReduction).toBeCloseTo(5376 / 117, 10);
    const cloudOnly = metricsAt(run, 0);
    expect(cloudOnly.localExitRate).toBe(0);
    expect(cloudOnly.overall).toBe(cloudOnly.cloud);
    expect(cloudOnly.bytesPerSample).toBe((7 * 140) / 4);
    expect(metricsAt(run, 1).localExitRate).toBe(1);
  });

  it('scores a sample no device sent anything for as unanswered: wrong at every exit, no exit, no bytes', () => {
    // Sample 3's cameras all dead: its cloud output (right, from the biases alone) is no answer.
    const blind = { ...run, senders: Uint8Array.from([2, 2, 1, 0]) };
    const m = metricsAt(blind, 0.5);
    expect(m.unanswered).toBe(0.25);
    expect(m.overall).toBe(0.25);
    expect(m.cloud).toBe(0.5);
    expect(m.localExitRate).toBe(0.5);
    expect(m.bytesPerSample).toBe((2 * 12 + 2 * 12 + 140) / 4);
    expect(metricsAt(run, 0.5).unanswered).toBe(0);
  });

  it('uses the edge exit between local and cloud in a 3-tier run', () => {
    const m = metricsAt({ ...run, edge: [unsure(0), unsure(1), sure(2), sure(1)] }, 0.5);
    expect(m.edgeExitRate).toBe(0.5);
    // 0 local right, 1 local wrong, 2 edge right, 3 edge wrong
    expect(m.overall).toBe(0.5);
    expect(m.edge).toBe(0.75);
  });

  it('sweeps T from 0 to 1 in steps of 0.05', () => {
    expect(thresholdGrid()).toHaveLength(21);
    expect(thresholdGrid()[7]).toBe(0.35);
    const points = sweepThresholds(run);
    expect(points[0]).toEqual({ threshold: 0, localExitRate: 0, overall: 0.75, bytesPerSample: 245 });
    expect(points[20].localExitRate).toBe(1);
  });
});
