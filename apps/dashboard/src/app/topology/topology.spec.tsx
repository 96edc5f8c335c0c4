import { render, screen } from '@testing-library/react';
import type { StreamView } from '@ddnn/contracts';
import TopologyPage from './page';

let search = new URLSearchParams();
jest.mock('next/navigation', () => ({ useSearchParams: () => search }));
jest.mock('next/link', () => ({ __esModule: true, default: ({ href, children, ...rest }: { href: string; children: unknown }) => <a href={href} {...rest}>{children as never}</a> }));
jest.mock('@xyflow/react/dist/style.css', () => ({}));
// React Flow measures its nodes, which jsdom cannot: the nodes it is given are what these tests read.
jest.mock('@xyflow/react', () => ({
  ReactFlow: ({ nodes }: { nodes: unknown[] }) => <div data-testid="flow" data-nodes={nodes.length} />,
  Background: () => null,
  Controls: () => null,
  MarkerType: { ArrowClosed: 'arrowclosed' },
}));
jest.mock('../../lib/live', () => ({ useLiveRun: () => ({ state: 'off', detail: '', lastMessageAt: null }) }));

const stream = {
  id: 'cb843fe0-0000-4000-8000-000000000000',
  kind: 'stream',
  name: 'Demo: street cameras',
  status: 'running',
  policy: { kind: 'entropy', thresholds: { local: 0.8 } },
  topology: { devices: [0, 1, 2].map((v) => ({ deviceId: `scene-${v}`, view: v })) },
  summary: null,
} as unknown as StreamView;
const list = (items: unknown[]) => ({ items, total: items.length, limit: 1, offset: 0 });

/** The API as fetch sees it: one stream, no session; `streams` is what GET /api/streams/:id knows. */
let streams: StreamView[] = [];
const asked: string[] = [];
const reply = (status: number, body: unknown) => ({ ok: status < 400, status, statusText: '', json: async () => body, text: async () => JSON.stringify(body) });
beforeEach(() => {
  streams = [stream];
  asked.length = 0;
  global.fetch = jest.fn(async (url: string) => {
    asked.push(url);
    const path = url.split('?')[0];
    if (path === '/api/devices') return reply(200, list([]));
    if (path === '/api/sessions') return reply(200, list([]));
    if (path === '/api/streams') return reply(200, list(streams));
    if (path.startsWith('/api/sessions/')) return reply(404, { message: `no session ${path.slice(14)}` });
    const found = streams.find((s) => path === `/api/streams/${s.id}`);
    return found ? reply(200, found) : reply(404, { message: `no stream ${path.slice(13)}` });
  }) as unknown as typeof fetch;
});

describe('the topology page', () => {
  it("draws a stream named by ?session= (a run id is a session's or a stream's), linking to the stream's page", async () => {
    search = new URLSearchParams({ session: stream.id });
    render(<TopologyPage />);
    const title = await screen.findByTestId('topology-run');
    expect(title.textContent).toBe('Demo: street cameras');
    expect(title.getAttribute('href')).toBe(`/stream?id=${stream.id}`);
    // Its three devices, the local aggregator and the cloud.
    expect(screen.getByTestId('flow').getAttribute('data-nodes')).toBe('5');
  });

  it('draws a stream by ?stream=, and the running stream when no session runs and none is named', async () => {
    search = new URLSearchParams({ stream: stream.id });
    const { unmount } = render(<TopologyPage />);
    expect((await screen.findByTestId('topology-run')).getAttribute('href')).toBe(`/stream?id=${stream.id}`);
    expect(asked.filter((u) => u.startsWith('/api/sessions/'))).toEqual([]);
    unmount();
    search = new URLSearchParams();
    render(<TopologyPage />);
    expect((await screen.findByTestId('topology-run')).textContent).toBe('Demo: street cameras');
    expect(asked).toContain('/api/sessions?status=running&limit=1');
  });

  it('says neither a session nor a stream has the id', async () => {
    streams = [];
    search = new URLSearchParams({ session: 'x' });
    render(<TopologyPage />);
    expect((await screen.findByText(/no session or stream x/)).textContent).toContain('no session or stream x');
  });
});
