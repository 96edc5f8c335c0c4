import { render, screen } from '@testing-library/react';
import type { SessionRunStats } from '@ddnn/contracts';
import { TimeCard } from './time-card';

const stats: SessionRunStats = { samples: 40, events: 400, durationMs: 20_000, pipelineMs: 19_000, serverModelMs: 400, deviceModelMs: 800, transportMs: 200, loggingMs: 120 };

describe('TimeCard', () => {
  it('shows a whole run as the session, per sample over its samples', () => {
    render(<TimeCard stats={stats} started={40} logEvents={402} />);
    expect(screen.queryByTestId('time-partial')).toBeNull();
    expect(screen.getByText('Session (wall clock)')).toBeTruthy();
    expect(screen.getByTestId('time-server').textContent).toBe('10.0 ms');
  });

  it("names its event count as the samples' and gives the whole log's beside it (the replay counts the log's)", () => {
    render(<TimeCard stats={stats} started={40} logEvents={402} />);
    expect(screen.getByText('Samples · their events')).toBeTruthy();
    expect(screen.getByTestId('time-events').textContent).toBe('40 · 400 (402 events in the whole log)');
  });

  it('says so when the node that ended the run measured only its own stint (a resume or a take-over)', () => {
    render(<TimeCard stats={stats} started={130} logEvents={null} />);
    expect(screen.getByTestId('time-partial').textContent).toMatch(/over its own 40 of the run's 130 samples: the run resumed after a restart or was\s+taken over from another node/);
    expect(screen.getByText('Last stint (wall clock)')).toBeTruthy();
  });
});
