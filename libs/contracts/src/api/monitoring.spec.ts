import { isMetricName, linkId, METRIC_NAMES, METRICS } from './monitoring';

describe('monitoring contracts', () => {
  it('defines every metric name once, and nothing else', () => {
    expect(new Set(METRIC_NAMES).size).toBe(METRIC_NAMES.length);
    expect(Object.keys(METRICS).sort()).toEqual([...METRIC_NAMES].sort());
  });
  it('marks exactly the estimates as carrying an interval', () => {
    const withInterval = METRIC_NAMES.filter((m) => METRICS[m].interval);
    expect(withInterval.every((m) => m.startsWith('accuracy_estimated'))).toBe(true);
    expect(withInterval).toHaveLength(4);
  });
  it('recognises metric names only from the closed list', () => {
    expect(isMetricName('exit_rate_local')).toBe(true);
    expect(isMetricName('exit_rate_nowhere')).toBe(false);
    expect(isMetricName(42)).toBe(false);
  });
  it('writes links from the sender to the receiver', () => {
    expect(linkId('dev-1', 'local')).toBe('dev-1->local');
  });
});
