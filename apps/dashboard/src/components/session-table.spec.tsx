import { fireEvent, render, screen, within } from '@testing-library/react';
import { emptySessionSummary, type SessionView } from '@ddnn/contracts';
import { SessionTable } from './session-table';

jest.mock('next/link', () => ({ __esModule: true, default: ({ href, children, ...rest }: { href: string; children: unknown }) => <a href={href} {...rest}>{children as never}</a> }));

function session(id: string, accuracy: number | null, startedAt: string): SessionView {
  return {
    id,
    name: '',
    tags: [],
    note: '',
    status: 'completed',
    modelId: 'default',
    dataset: 'synth',
    split: 'test',
    mode: 'research',
    policy: { kind: 'entropy', thresholds: { local: 0.8 } },
    topology: { devices: [] },
    deadlineMs: 2000,
    rate: null,
    limit: null,
    configuration: null,
    sampleCount: 10,
    samplesDone: 10,
    owner: null,
    demo: false,
    error: null,
    createdAt: startedAt,
    startedAt,
    finishedAt: startedAt,
    deletingSince: null,
    stats: null,
    summary:
      accuracy === null
        ? null
        : {
            ...emptySessionSummary(id),
            status: 'completed',
            samplesStarted: 10,
            samplesDecided: 10,
            labelled: 10,
            correct: Math.round(accuracy * 10),
            accuracy,
            exits: { local: { exited: 6, labelled: 6, correct: 5 }, edge: { exited: 0, labelled: 0, correct: 0 }, cloud: { exited: 4, labelled: 4, correct: 3 } },
            bytes: { total: 1200, shadowTotal: 0, perSample: 120, links: [] },
          },
  };
}

describe('SessionTable', () => {
  const rows = [session('aaaaaaaa-0000', 0.5, '2026-01-01T10:00:00Z'), session('bbbbbbbb-0000', 0.9, '2026-01-02T10:00:00Z'), session('cccccccc-0000', null, '2026-01-03T10:00:00Z')];
  const ids = () => screen.getAllByRole('row').slice(1).map((r) => r.getAttribute('data-session'));

  it('shows newest first, and sorts by accuracy on a header click (unknown last)', () => {
    render(<SessionTable sessions={rows} />);
    expect(ids()).toEqual(['cccccccc-0000', 'bbbbbbbb-0000', 'aaaaaaaa-0000']);
    fireEvent.click(screen.getByText('Accuracy'));
    expect(ids()).toEqual(['aaaaaaaa-0000', 'bbbbbbbb-0000', 'cccccccc-0000']);
    fireEvent.click(screen.getByText(/Accuracy/));
    expect(ids()).toEqual(['bbbbbbbb-0000', 'aaaaaaaa-0000', 'cccccccc-0000']);
  });

  it('shows the summary columns of a row', () => {
    render(<SessionTable sessions={rows} />);
    const row = screen.getAllByRole('row').find((r) => r.getAttribute('data-session') === 'bbbbbbbb-0000')!;
    expect(within(row).getByText('90.0%')).toBeTruthy();
    expect(within(row).getByText('60.0%')).toBeTruthy();
    expect(within(row).getByText('120 B')).toBeTruthy();
    expect(within(row).getByText('entropy T=0.8')).toBeTruthy();
    expect(within(row).getByText('completed')).toBeTruthy();
  });

  it('shows a run being deleted (its DELETE answered 202) as deleting, not by its end status', () => {
    render(<SessionTable sessions={[{ ...rows[0], deletingSince: '2026-01-04T10:00:00Z' }]} />);
    const [row] = screen.getAllByRole('row').slice(1);
    expect(within(row).getByText('deleting').getAttribute('title')).toMatch(/^deletion asked for at .*; its log is partly gone$/);
    expect(within(row).queryByText('completed')).toBeNull();
  });
});
