import { render, screen } from '@testing-library/react';
import type { ConnectivityTimeline } from '@ddnn/contracts';
import { fmtTime } from '../lib/format';
import { metricsApi } from '../lib/metrics';
import { ConnectivityStrip } from './metric-chart';

jest.mock('../lib/metrics', () => ({ ...jest.requireActual('../lib/metrics'), metricsApi: { connectivity: jest.fn(), series: jest.fn() } }));

describe("a device's connectivity strip", () => {
  // 07:58: the 24-hour window at 5-minute steps ends at 08:00, two minutes from now.
  const now = Date.parse('2026-12-07T07:58:00Z');
  const window = { from: Date.parse('2026-12-06T08:00:00Z'), to: Date.parse('2026-12-07T08:00:00Z'), step: 300_000 };
  beforeEach(() => jest.spyOn(Date, 'now').mockReturnValue(now));
  afterEach(() => jest.restoreAllMocks());

  it('dates its axis as every other date on the dashboard, and ends it now rather than at the end of the step', async () => {
    const spans: ConnectivityTimeline['spans'] = [
      { state: 'unknown', from: window.from, to: Date.parse('2026-12-07T06:00:00Z') },
      { state: 'connected', from: Date.parse('2026-12-07T06:00:00Z'), to: window.to },
    ];
    (metricsApi.connectivity as jest.Mock).mockResolvedValue({ deviceId: 'd1', spans });
    render(<ConnectivityStrip deviceId="d1" window={window} />);
    expect(screen.getByTestId('connectivity-from').textContent).toBe(fmtTime(window.from));
    expect(screen.getByTestId('connectivity-to').textContent).toBe(fmtTime(now));
    // The last span, logged up to the window's end, stops at now: the spans fill the strip and no more.
    await screen.findByTitle(`connected: ${fmtTime(spans[1].from)} – ${fmtTime(now)}`);
    const widths = [...screen.getByTestId('connectivity-strip').querySelectorAll<HTMLElement>('.span')].map((s) => parseFloat(s.style.width));
    expect(widths.reduce((a, b) => a + b, 0)).toBeCloseTo(100, 6);
  });
});
