import type { SessionSummary, SessionView } from '@ddnn/contracts';
import { runDiff } from './run-diff';

const devices = Array.from({ length: 6 }, (_, v) => ({ deviceId: `dev-${v}`, view: v }));

function run(over: Partial<SessionView> = {}, outcome?: { accuracy: number; labelled: number; local: number; edge?: number; cloud: number; perSample: number }): SessionView {
  const o = outcome ?? { accuracy: 0.9, labelled: 171, local: 120, cloud: 51, perSample: 80 };
  const decided = o.local + (o.edge ?? 0) + o.cloud;
  // Only the fields the comparison reads; the rest of the fold plays no part here.
  const summary = {
    accuracy: o.accuracy,
    labelled: o.labelled,
    samplesDecided: decided,
    exits: { local: { exited: o.local }, edge: { exited: o.edge ?? 0 }, cloud: { exited: o.cloud } },
    bytes: { total: o.perSample * decided, shadowTotal: 0, perSample: o.perSample, links: [] },
  } as unknown as SessionSummary;
  return {
    id: 's-1', name: 'baseline', tags: ['lab', 'a'], note: '', status: 'completed', modelId: 'default', dataset: 'synth', split: 'test',
    mode: 'production', policy: { kind: 'entropy', thresholds: { local: 0.8 } }, topology: { devices }, deadlineMs: 5000, rate: null, limit: 171,
    configuration: { limit: 171, rate: null, devices: devices.map((d) => ({ deviceId: d.deviceId, name: `cam-${d.view}`, simulated: true })), link: { latencyMs: 20, bandwidthKbps: 1000 }, failures: [] },
    sampleCount: 171, samplesDone: 171, owner: null, demo: false, error: null, createdAt: '2026-12-05T10:00:00Z', startedAt: null, finishedAt: null, deletingSince: null, stats: null,
    summary,
    ...over,
  };
}

const byLabel = (rows: ReturnType<typeof runDiff>) => Object.fromEntries(rows.map((r) => [r.label, r]));

describe('runDiff', () => {
  it('marks nothing on a run compared with itself, settings before outcomes', () => {
    const rows = runDiff(run(), run({ id: 's-2' }));
    expect(rows.filter((r) => r.differs)).toEqual([]);
    expect(rows.map((r) => r.label)).toEqual([
      'name', 'tags', 'model', 'dataset', 'split', 'policy', 'mode', 'rate', 'limit', 'deadline', 'devices', 'edges', 'link model', 'failures',
      'status', 'samples decided', 'accuracy', 'local exits', 'edge exits', 'cloud exits', 'bytes per sample',
    ]);
    expect(rows.slice(0, 14).every((r) => r.group === 'settings')).toBe(true);
    expect(rows.slice(14).every((r) => r.group === 'outcome')).toBe(true);
  });

  it('highlights exactly the settings that differ, and the outcomes they changed', () => {
    const b = run(
      {
        id: 's-2',
        tags: ['a', 'lab'], // same tags in another order: not a difference
        policy: { kind: 'entropy', thresholds: { local: 0.5 } },
        rate: 20,
        configuration: { ...run().configuration!, link: { latencyMs: 50, bandwidthKbps: 250 }, failures: [{ device: 2, atSample: 10, kind: 'crash' }] },
      },
      { accuracy: 0.85, labelled: 171, local: 150, cloud: 21, perSample: 40 },
    );
    const rows = byLabel(runDiff(run(), b));
    expect(Object.values(rows).filter((r) => r.differs).map((r) => r.label)).toEqual(['policy', 'rate', 'link model', 'failures', 'accuracy', 'local exits', 'cloud exits', 'bytes per sample']);
    expect(rows['policy']).toMatchObject({ a: 'entropy T=0.8', b: 'entropy T=0.5' });
    expect(rows['rate']).toMatchObject({ a: 'as fast as possible', b: '20 samples/s' });
    expect(rows['link model']).toMatchObject({ a: '20 ms + 1000 kbit/s', b: '50 ms + 250 kbit/s' });
    expect(rows['failures']).toMatchObject({ a: 'none', b: 'device 2 crash at sample 10' });
    // 90% on 171 labelled samples is +/- 4.5 points.
    expect(rows['accuracy'].a).toBe('90.0% ± 4.5 pts (171 labelled)');
    expect(rows['local exits']).toMatchObject({ a: '70.2%', b: '87.7%' });
    expect(rows['bytes per sample']).toMatchObject({ a: '80 B', b: '40 B' });
  });

  it('shows device names from the recorded configuration, and says when a run recorded none', () => {
    const old = run({ id: 's-0', configuration: null, summary: null, status: 'failed' });
    const rows = byLabel(runDiff(run(), old));
    expect(rows['devices'].a).toContain('view 0: cam-0 (sim)');
    expect(rows['devices'].b).toContain('view 0: dev-0');
    expect(rows['link model']).toMatchObject({ b: 'not recorded', differs: true });
    expect(rows['accuracy']).toMatchObject({ b: '–', differs: true });
    expect(rows['status']).toMatchObject({ a: 'completed', b: 'failed', differs: true });
  });
});
