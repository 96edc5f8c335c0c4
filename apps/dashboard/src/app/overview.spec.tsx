import { render, screen, waitFor, within } from '@testing-library/react';
import type { StreamListQuery, StreamView } from '@ddnn/contracts';
import { api } from '../lib/api';
import { StreamsCard } from '../components/streams-card';
import OverviewPage from './page';

jest.mock('next/link', () => ({ __esModule: true, default: ({ href, children, ...rest }: { href: string; children: unknown }) => <a href={href} {...rest}>{children as never}</a> }));
jest.mock('../lib/api', () => ({
  api: { health: jest.fn(), devices: jest.fn(), sessions: jest.fn(), session: jest.fn(), streams: jest.fn() },
}));

const stream = (id: string, name: string, status: StreamView['status']) =>
  ({ id, name, status, rate: 2, policy: { kind: 'entropy', thresholds: { local: 0.8 } }, summary: null, samplesDone: 248, startedAt: null, deletingSince: null }) as unknown as StreamView;

describe('the overview', () => {
  beforeEach(() => {
    (api.health as jest.Mock).mockResolvedValue({ status: 'up', version: '0.1.0', uptimeSeconds: 12 });
    (api.devices as jest.Mock).mockResolvedValue({ items: [], total: 6 });
    (api.sessions as jest.Mock).mockResolvedValue({ items: [], total: 1, limit: 5, offset: 0 });
    const all = [stream('s-run', 'Demo: street cameras', 'running'), stream('s-old', 'old', 'stopped')];
    (api.streams as jest.Mock).mockImplementation(async (q: StreamListQuery) => {
      const items = all.filter((s) => !q.status || s.status === q.status);
      return { items: items.slice(0, q.limit), total: items.length, limit: q.limit, offset: 0 };
    });
  });

  it('counts the running streams beside the running sessions, and lists them', async () => {
    render(<OverviewPage />);
    const stat = screen.getByTestId('stat-running-streams');
    await within(stat).findByText('1');
    expect(stat.textContent).toContain('2 in all');
    const table = await screen.findByTestId('streams-table');
    expect([...table.querySelectorAll('tbody tr')].map((r) => r.getAttribute('data-stream'))).toEqual(['s-run']);
    expect(within(table).getByText('Demo: street cameras').getAttribute('href')).toBe('/stream?id=s-run');
  });

  it("leads from the running streams to the list of every stream (the sessions page's streams card)", async () => {
    render(<OverviewPage />);
    expect(screen.getByText('All streams').getAttribute('href')).toBe('/sessions#streams');
    render(<StreamsCard />);
    // The target holds every stream, the stopped one too; the overview's running card is no target.
    await waitFor(() => expect(document.getElementById('streams')?.querySelectorAll('tbody tr').length).toBe(2));
    expect(document.querySelectorAll('#streams').length).toBe(1);
  });
});
