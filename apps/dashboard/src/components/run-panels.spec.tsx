import { render, screen, within } from '@testing-library/react';
import { emptySessionSummary, type SessionSummary } from '@ddnn/contracts';
import { ApiError } from '../lib/api';
import { DecidedSamplesTable, DeviceHealthCard, MissedStat } from './run-panels';
import { ErrorNote } from './ui';

jest.mock('next/link', () => ({ __esModule: true, default: ({ href, children, ...rest }: { href: string; children: unknown }) => <a href={href} {...rest}>{children as never}</a> }));

const reasons = (timeout: number, skipped: number) => ({ timeout, disconnected: 0, error: 0, invalid: 0, skipped });

/** The review's scene-0: 225 answered, 152 DeviceMissed of which every one a skipped capture. */
function summary(): SessionSummary {
  return {
    ...emptySessionSummary('run'),
    classes: ['car', 'bus', 'person'],
    missed: 152 + 10,
    devices: {
      'scene-0': { view: 0, answered: 225, missed: 152, missedByReason: reasons(0, 152), meanLatencyMs: 0.2, latencyMsTotal: 45 },
      'scene-1': { view: 1, answered: 90, missed: 10, missedByReason: reasons(4, 6), meanLatencyMs: 0.2, latencyMsTotal: 18 },
    },
  };
}

describe('the run panels count skipped captures apart from misses', () => {
  it('shows per device the misses, the miss rate without skipped captures, and the captures skipped', () => {
    render(<DeviceHealthCard summary={summary()} names={new Map()} />);
    const row = (id: string) => within(screen.getByTestId('device-health').querySelector(`tr[data-device="${id}"]`) as HTMLElement);
    expect(row('scene-0').getByTestId('health-missed').textContent).toBe('0');
    expect(row('scene-0').getByTestId('health-miss-rate').textContent).toBe('0.0%');
    expect(row('scene-0').getByTestId('health-not-captured').textContent).toBe('152');
    expect(row('scene-1').getByTestId('health-missed').textContent).toBe('4');
    // 4 / (90 + 4): what device_miss_rate says.
    expect(row('scene-1').getByTestId('health-miss-rate').textContent).toBe('4.3%');
    expect(row('scene-1').getByTestId('health-not-captured').textContent).toBe('6');
  });

  it("shows the run's missed replies with its skipped captures beside them", () => {
    render(<MissedStat summary={summary()} />);
    const stat = screen.getByTestId('stat-missed');
    expect(stat.querySelector('.stat-value')?.textContent).toBe('4');
    expect(within(stat).getByTestId('stat-not-captured').textContent).toBe('158');
    expect(stat.textContent).toContain('1.3% of captured');
  });

  it("names predictions and labels by the run's classes", () => {
    render(
      <DecidedSamplesTable
        classes={['car', 'bus', 'person']}
        rows={[
          { sampleIndex: 7, tier: 'local', eta: 0.4, prediction: 2, label: 2 },
          { sampleIndex: 6, tier: 'cloud', eta: 0.9, prediction: 0, label: 1 },
          { sampleIndex: 5, tier: 'local', eta: 0.5, prediction: 1, label: null },
        ]}
        replayHref={(i) => `/replay?sample=${i}`}
      />,
    );
    const cells = screen.getAllByRole('row').slice(1).map((r) => r.querySelectorAll('td')[3].textContent);
    expect(cells).toEqual(['person ✓ right', 'car ✗ wrong (label bus)', 'bus']);
  });
});

describe('ErrorNote', () => {
  it('says a missing resource was not found, and a missing route that the API does not serve it', () => {
    const { rerender } = render(<ErrorNote error={new ApiError(404, 'no device garbage', '/api/devices/garbage')} what="device garbage" />);
    expect(screen.getByRole('alert').textContent).toContain('It does not exist');
    expect(screen.getByRole('alert').textContent).not.toContain('does not serve');
    rerender(<ErrorNote error={new ApiError(404, 'Cannot GET /api/devices/x/history', '/api/devices/x/history?limit=5')} what="the history" />);
    expect(screen.getByRole('alert').textContent).toContain('This API does not serve /api/devices/x/history (yet)');
  });
});
