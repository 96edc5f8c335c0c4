import { render, screen } from '@testing-library/react';
import type { StreamGapsSummary } from '@ddnn/contracts';
import { gapsLine, StreamGapsCard } from './stream-gaps';

const gaps: StreamGapsSummary = {
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
    const { container } = render(<StreamGapsCard gaps={undefined} />);
    expect(container.innerHTML).toBe('');
  });
});
