import { render, screen, within } from '@testing-library/react';
import type { SessionView, StoredEvent, StreamView } from '@ddnn/contracts';
import { syntheticSessionEvents } from '@ddnn/policies';
import { allSessionEvents, api, streamWindowEvents } from '../../lib/api';
import ReplayPage from './page';

let search = new URLSearchParams();
jest.mock('next/navigation', () => ({ useSearchParams: () => search }));
jest.mock('next/link', () => ({ __esModule: true, default: ({ href, children, ...rest }: { href: string; children: unknown }) => <a href={href} {...rest}>{children as never}</a> }));
// Recharts measures its container, which jsdom cannot: the charts are not what these tests read.
jest.mock('../../components/charts', () => ({ CumulativeRates: () => null, CumulativeBytes: () => null }));
jest.mock('../../lib/api', () => ({
  api: { session: jest.fn(), stream: jest.fn(), streamEvents: jest.fn(), sampleViews: jest.fn(), device: jest.fn() },
  allSessionEvents: jest.fn(),
  streamWindowEvents: jest.fn(),
}));

const events = syntheticSessionEvents({ sessionId: 'run-1', samples: 12, seed: 5, mode: 'production', thresholds: { local: 0.6 } });
const classes = (events.find((e) => e.type === 'SessionStarted')?.data as { classes: string[] }).classes;
const policy = { kind: 'entropy', thresholds: { local: 0.6 } };
const at = (type: string, data: Record<string, unknown>, n: number) => ({ type, eventId: `x${n}`, checkpoint: `99:${n}`, createdAt: '2026-12-07T08:00:00Z', data }) as unknown as StoredEvent;

beforeEach(() => {
  (api.sampleViews as jest.Mock).mockResolvedValue({ sampleId: '', captured: [] });
});

describe('the replay page', () => {
  it("says how many events its log holds and how many samples had no answer", async () => {
    const unanswered = [at('SampleStarted', { sessionId: 'run-1', sampleIndex: 12, sampleId: 's12', label: 1 }, 1), at('SampleUnanswered', { sessionId: 'run-1', sampleIndex: 12 }, 2)];
    const log = [...events.slice(0, -1), ...unanswered, events[events.length - 1]];
    (api.session as jest.Mock).mockResolvedValue({ id: 'run-1', status: 'completed', dataset: 'synth', split: 'test', policy, mode: 'production', startedAt: null } as unknown as SessionView);
    (allSessionEvents as jest.Mock).mockResolvedValue(log);
    search = new URLSearchParams({ session: 'run-1', t: '1' });
    render(<ReplayPage />);
    expect((await screen.findByTestId('replay-events')).textContent).toBe(`${log.length} events in its log`);
    expect(screen.getByTestId('replay-unanswered').textContent).toBe(' · 1 sample had no answer (nothing reached an exit that could answer it)');
  });

  it("shows a stream's labels, posted after its samples were decided, and the accuracy they give", async () => {
    // A stream's log: the start, then samples and exits without labels, each label after its decision.
    const start = events[0] as StoredEvent & { data: { topology: unknown; messageSizes: unknown } };
    const streamStarted = at('StreamStarted', { ...start.data, rate: 2, captureToleranceMs: 500 }, 0);
    const body = events.slice(1, -1).map((e) => (e.type === 'SampleStarted' || e.type === 'ExitDecided' ? ({ ...e, data: { ...e.data, label: null } } as StoredEvent) : e));
    const labels = events.flatMap((e, n) => (e.type === 'SampleStarted' && e.data.label !== null ? [at('SampleLabelled', { sessionId: 'run-1', sampleIndex: e.data.sampleIndex, label: e.data.label, labelledAt: 0 }, 100 + n)] : []));
    const log = [streamStarted, ...body, ...labels];
    (api.stream as jest.Mock).mockResolvedValue({ id: 'run-1', name: 'street', status: 'running', policy, mode: 'production' } as unknown as StreamView);
    (api.streamEvents as jest.Mock).mockResolvedValue({ events: [streamStarted], checkpoint: '99:0', hasMore: true });
    (streamWindowEvents as jest.Mock).mockResolvedValue({ events: log, truncated: false });
    search = new URLSearchParams({ stream: 'run-1', t: '1' });
    render(<ReplayPage />);
    await screen.findByTestId('replay-sample');
    const first = events.find((e) => e.type === 'ExitDecided' && e.data.exited && !e.data.shadow)?.data as { sampleIndex: number; prediction: number; label: number };
    expect(screen.getByTestId('replay-sample-index').textContent).toBe(String(first.sampleIndex));
    const label = screen.getByText('Label').closest('.stat') as HTMLElement;
    expect(within(label).getByText(classes[first.label])).toBeTruthy();
    const prediction = screen.getByText('Prediction').closest('.stat') as HTMLElement;
    expect(prediction.textContent).toContain(first.prediction === first.label ? '✓ right' : '✗ wrong');
    expect(screen.getByTestId('replay-cum-accuracy').textContent).toMatch(/(100\.0|0\.0)%/);
    expect(screen.getByTestId('replay-events').textContent).toBe(`${log.length} events in the window`);
    expect(screen.queryByTestId('replay-unanswered')).toBeNull();
  });
});
