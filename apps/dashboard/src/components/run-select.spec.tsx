import { render, screen } from '@testing-library/react';
import type { SessionList, StreamList } from '@ddnn/contracts';
import { api } from '../lib/api';
import { listRuns, RunSelect } from './run-select';

jest.mock('../lib/api', () => ({ api: { sessions: jest.fn(), streams: jest.fn() } }));

const row = (id: string, name: string, status: string) => ({ id, name, status });

describe('the run picker', () => {
  beforeEach(() => {
    (api.streams as jest.Mock).mockResolvedValue({ items: [row('stream-0001', 'Demo: street cameras', 'running')], total: 1 } as unknown as StreamList);
    (api.sessions as jest.Mock).mockResolvedValue({ items: [row('sess-0001', '', 'completed'), row('sess-0002', 'nightly', 'failed')], total: 2 } as unknown as SessionList);
  });

  it('lists streams and sessions, each in its group, and selects a stream', async () => {
    const runs = await listRuns(100);
    expect(api.streams).toHaveBeenCalledWith({ limit: 100 });
    expect(runs.map((r) => [r.kind, r.id, r.name])).toEqual([
      ['stream', 'stream-0001', 'Demo: street cameras'],
      ['session', 'sess-0001', 'sess-000'],
      ['session', 'sess-0002', 'nightly'],
    ]);
    render(<RunSelect runs={runs} value="stream-0001" onChange={() => undefined} />);
    const select = screen.getByRole('combobox') as HTMLSelectElement;
    expect(select.value).toBe('stream-0001');
    expect(select.selectedOptions[0].textContent).toBe('Demo: street cameras · running');
    expect([...select.querySelectorAll('optgroup')].map((g) => [g.label, g.querySelectorAll('option').length])).toEqual([
      ['Streams', 1],
      ['Sessions', 2],
    ]);
  });

  it('keeps a selected run the lists do not hold, rather than showing "All runs"', () => {
    render(<RunSelect runs={undefined} value="0b7c2f10-older-run" onChange={() => undefined} />);
    const select = screen.getByRole('combobox') as HTMLSelectElement;
    expect(select.value).toBe('0b7c2f10-older-run');
    expect(select.selectedOptions[0].textContent).toBe('0b7c2f10');
  });
});
