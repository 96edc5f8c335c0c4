import { AGREEMENT_DRIFT_MIN_SAMPLES, metricValue, referenceModel } from './metric-series';

describe('peer agreement drift', () => {
  const reference = referenceModel('ref', { labelled: 400 }, { peerAgree: 320, peerAgreeN: 400 });
  const drift = (peerAgree: number, peerAgreeN: number, ref = reference) => metricValue('peer_agreement_drift', { peerAgree, peerAgreeN }, 60_000, ref, true);

  it("is the device's peer agreement minus its own in the reference, at the top of the difference's 95% interval", () => {
    const n = 200;
    const p = (k: number, t: number) => ((k + 1) / (t + 2)) * (1 - (k + 1) / (t + 2)) / t;
    expect(drift(n / 2, n).value).toBeCloseTo(0.5 - 0.8 + 1.96 * Math.sqrt(p(n / 2, n) + p(320, 400)));
    // The same share as the reference: above 0 (no drop is certain); a drop of 30 points on 200 samples: certain.
    expect(drift(160, 200).value!).toBeGreaterThan(0);
    expect(drift(100, 200).value!).toBeLessThan(-0.15);
    // The same drop on 30 samples is less certain: it reads smaller.
    expect(drift(15, 30).value!).toBeGreaterThan(drift(100, 200).value!);
  });

  it('has no value over a handful of samples, for a device the reference lacks, or without a reference', () => {
    expect(drift(0, AGREEMENT_DRIFT_MIN_SAMPLES - 1)).toEqual({ value: null, n: AGREEMENT_DRIFT_MIN_SAMPLES - 1 });
    expect(drift(10, 100, referenceModel('ref', { labelled: 100, peerAgree: 50, peerAgreeN: 100 }, null)).value).toBeNull();
    expect(drift(10, 100, null as never).value).toBeNull();
  });
});
