import { AGREEMENT_DRIFT_MIN_SAMPLES, metricValue, referenceModel } from './metric-series';

describe('device agreement drift', () => {
  const reference = referenceModel('ref', { labelled: 100 }, { agree: 80, agreeN: 100 });

  it("is the device's agreement minus its own in the reference, once the window holds enough samples", () => {
    const n = AGREEMENT_DRIFT_MIN_SAMPLES;
    expect(metricValue('device_agreement_drift', { agree: n / 2, agreeN: n }, 60_000, reference, true).value).toBeCloseTo(0.5 - 0.8);
    // A few samples are no evidence: no value, so that a rule neither fires nor clears on them.
    expect(metricValue('device_agreement_drift', { agree: 0, agreeN: n - 1 }, 60_000, reference, true)).toEqual({ value: null, n: n - 1 });
  });

  it('has no value for a device the reference lacks, or without a reference', () => {
    const withoutDevice = referenceModel('ref', { labelled: 100, agree: 50, agreeN: 100 }, null);
    expect(metricValue('device_agreement_drift', { agree: 10, agreeN: 100 }, 60_000, withoutDevice, true).value).toBeNull();
    expect(metricValue('device_agreement_drift', { agree: 10, agreeN: 100 }, 60_000, null, true).value).toBeNull();
  });
});
