import { ConflictException, HttpStatus } from '@nestjs/common';
import { LabelsRefused } from '../streams/labels-refused';
import type { StreamLabel } from '@ddnn/contracts';
import type { SimulatedCapture } from '../simulations/simulated-device';
import { DemoLabeller } from './demo-labeller';

function harness(opts: { fail?: boolean; deleting?: boolean; labelledOtherwise?: Set<number> } = {}) {
  let calls = 0;
  let listener: ((c: SimulatedCapture) => void) | null = null;
  let now = 100_000;
  const posted: { runId: string; labels: StreamLabel[] }[] = [];
  const warnings: string[] = [];
  const labeller = new DemoLabeller('run-1', 4000, {
    onCapture: (l) => {
      listener = l;
      return () => (listener = null);
    },
    truth: (t) => Math.floor(t / 1000) % 3,
    label: async (runId, labels) => {
      calls++;
      if (opts.fail) throw new Error('database unavailable');
      if (opts.deleting) throw new ConflictException('stream run-1 is being deleted: its labels are no longer taken (nothing was logged)');
      // As the stream's labels path: a request with one sample labelled otherwise is refused whole, nothing logged.
      const conflicts = labels.filter((l) => opts.labelledOtherwise?.has(l.sampleIndex)).map((l) => l.sampleIndex);
      if (conflicts.length) throw new LabelsRefused(HttpStatus.CONFLICT, `sample(s) ${conflicts.join(', ')} already have a different label (labels are final; nothing was logged)`, conflicts);
      posted.push({ runId, labels });
    },
    warn: (m) => warnings.push(m),
    now: () => now,
  });
  labeller.start(60_000);
  const capture = (c: Partial<SimulatedCapture>) => listener?.({ runId: 'run-1', sampleIndex: 0, view: 0, capturedAt: now, ...c });
  return { labeller, posted, warnings, capture, advance: (ms: number) => (now += ms), listening: () => listener !== null, calls: () => calls };
}

describe('the demo labeller', () => {
  it('labels each sample of its stream once, from the truth at its capture time, only once it is due', async () => {
    const h = harness();
    h.capture({ sampleIndex: 0, capturedAt: 100_000 });
    h.capture({ sampleIndex: 0, view: 3, capturedAt: 100_002 });
    h.capture({ sampleIndex: 1, capturedAt: 101_500 });
    h.capture({ runId: 'other-run', sampleIndex: 7, capturedAt: 100_000 });
    expect(await h.labeller.flush()).toBe(0);
    h.advance(4000);
    expect(await h.labeller.flush()).toBe(1);
    h.advance(1500);
    expect(await h.labeller.flush()).toBe(1);
    expect(await h.labeller.flush()).toBe(0);
    expect(h.posted).toEqual([
      { runId: 'run-1', labels: [{ sampleIndex: 0, label: 100 % 3 }] },
      { runId: 'run-1', labels: [{ sampleIndex: 1, label: 101 % 3 }] },
    ]);
    h.labeller.stop();
    expect(h.listening()).toBe(false);
  });

  it('logs a failed post and drops its labels rather than retrying forever', async () => {
    const h = harness({ fail: true });
    h.capture({ sampleIndex: 5 });
    h.advance(5000);
    expect(await h.labeller.flush()).toBe(0);
    expect(h.warnings).toEqual([expect.stringContaining('posting 1 labels: database unavailable')]);
    expect(await h.labeller.flush()).toBe(0);
    expect(h.warnings).toHaveLength(1);
  });

  it('posts the rest of a batch again when labels in it are refused (an operator labelled two of its samples otherwise)', async () => {
    const h = harness({ labelledOtherwise: new Set([168, 170]) });
    for (const i of [166, 167, 168, 169, 170]) h.capture({ sampleIndex: i });
    h.advance(5000);
    // The batch of five used to be refused whole, and 166, 167 and 169 never got their label.
    expect(await h.labeller.flush()).toBe(3);
    expect(h.posted.flatMap((p) => p.labels.map((l) => l.sampleIndex))).toEqual([166, 167, 169]);
    expect(h.warnings).toEqual([expect.stringMatching(/^demo stream run-1: 2 of 5 labels refused \(sample\(s\) 168, 170 already have a different label .*\), the other 3 posted$/)]);
  });

  it('does not post labels one more time when the request as a whole was refused (the stream being deleted)', async () => {
    const h = harness({ deleting: true });
    for (const i of [1, 2, 3]) h.capture({ sampleIndex: i });
    h.advance(5000);
    expect(await h.labeller.flush()).toBe(0);
    expect(h.calls()).toBe(1);
    expect(h.warnings).toEqual([expect.stringContaining('posting 3 labels: stream run-1 is being deleted')]);
  });
});
