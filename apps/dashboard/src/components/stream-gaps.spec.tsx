import { render, screen } from '@testing-library/react';
import type { WindowGaps } from '../lib/stream-window';
import { gapsLine, StreamGapsCard } from './stream-gaps';

const gaps: WindowGaps = {
  partial: false,
  missedTriggers: { outage: 62, backlog: 12, stall: 3 },
  outages: 1,
  outageMs: 31_500,
  recent: [
    { cause: 'outage', from: 1_764_950_400_000, to: 1_764_950_431_500, missedTriggers: 62, nextSample: 5013 },
    { cause: 'backlog', from: 1_764_950_500_000, to: 1_764_950_560_000, missedTriggers: 12, nextSample: 5200 },
    { cause: 'stall', from: 1_764_950_500_000, to: 1_764_950_560_000, missedTriggers: 3, nextSample: 5200 },
  ],
};

describe("a stream's gaps", () => {
  it('say in one line how long the stream was down and what it dropped behind its rate', () => {
    expect(gapsLine(gaps)).toBe('1 outage lasting 31.5 s (62 triggers missed), 15 triggers dropped behind the rate');
    expect(gapsLine({ ...gaps, outages: 0, outageMs: 0, missedTriggers: { outage: 0, backlog: 1, stall: 0 } })).toBe('1 trigger dropped behind the rate');
    expect(gapsLine(undefined)).toBe('');
  });

  it('list the window’s gaps newest first, and show nothing for a window without any', () => {
    render(<StreamGapsCard gaps={gaps} />);
    const rows = [...screen.getByTestId('stream-gaps').querySelectorAll('tbody tr')];
    expect(rows.map((r) => r.getAttribute('data-cause'))).toEqual(['stall', 'backlog', 'outage']);
    expect(rows[2].textContent).toContain('outage (31.5 s)');
    expect(rows[2].textContent).toContain('5013');
    expect(screen.getByTestId('gaps-line').textContent).not.toContain('rollup');
    const { container } = render(<StreamGapsCard gaps={undefined} />);
    expect(container.innerHTML).toBe('');
  });

  it("say when a window too long to read counts more gaps than it lists, and give its counts with no list", () => {
    const { unmount } = render(<StreamGapsCard gaps={{ ...gaps, outages: 4, partial: true }} />);
    expect(screen.getByTestId('gaps-line').textContent).toMatch(/^4 outages .*whole window's, from the per-minute rollup.*gaps of its first events and the stream’s latest ones\.$/);
    expect(screen.getAllByRole('row')).toHaveLength(4);
    unmount();
    render(<StreamGapsCard gaps={{ ...gaps, recent: [], partial: true }} />);
    expect(screen.getByTestId('gaps-line').textContent).toContain('none of the gaps the page read');
    expect(screen.queryByTestId('stream-gaps')).toBeNull();
  });
});
