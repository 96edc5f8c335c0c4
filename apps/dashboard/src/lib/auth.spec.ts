import { api, ApiError, request } from './api';
import { adoptTokenFromFragment, getToken, onTokenChange, setToken } from './auth';

describe('the operator token', () => {
  beforeEach(() => window.localStorage.clear());

  it('is taken from #token=, stored, and removed from the address bar (path, query and other fragment parts kept)', () => {
    window.history.replaceState(null, '', '/replay/?session=abc&t=4#token=op%2Btoken&x=1');
    expect(adoptTokenFromFragment()).toBe('op+token');
    expect(getToken()).toBe('op+token');
    expect(window.location.pathname + window.location.search + window.location.hash).toBe('/replay/?session=abc&t=4#x=1');
    window.history.replaceState(null, '', '/devices/#token=t2');
    adoptTokenFromFragment();
    expect(window.location.href).not.toContain('#');
    expect(adoptTokenFromFragment()).toBeNull();
  });

  it('goes with every API call, and a 401 signs out with the server message', async () => {
    setToken('tok');
    const reasons: (string | undefined)[] = [];
    const off = onTokenChange((t, why) => reasons.push(t === null ? why : 'in'));
    const seen: (string | null)[] = [];
    global.fetch = jest.fn(async (_url: string, init: RequestInit) => {
      seen.push(new Headers(init.headers).get('Authorization'));
      return { ok: false, status: 401, statusText: 'Unauthorized', text: async () => JSON.stringify({ message: 'unknown or revoked token' }) } as Response;
    }) as unknown as typeof fetch;
    await expect(request('/api/devices')).rejects.toEqual(new ApiError(401, 'unknown or revoked token', '/api/devices'));
    expect(seen).toEqual(['Bearer tok']);
    expect(getToken()).toBeNull();
    expect(reasons[0]).toMatch(/refused the token \(unknown or revoked token\)/);
    off();
  });

  it('names an unreachable API and passes other errors on with their message', async () => {
    global.fetch = jest.fn(async () => {
      throw new TypeError('Failed to fetch');
    }) as unknown as typeof fetch;
    await expect(request('/api/health')).rejects.toMatchObject({ status: 0, message: 'cannot reach the API (Failed to fetch)' });
    global.fetch = jest.fn(async () => ({ ok: false, status: 400, statusText: 'Bad Request', text: async () => JSON.stringify({ message: ['limit must be >= 1', 'x is bad'] }) }) as Response) as unknown as typeof fetch;
    await expect(request('/api/sessions')).rejects.toMatchObject({ status: 400, message: 'limit must be >= 1; x is bad' });
  });
});

describe("a run's DELETE", () => {
  it('is done on 204 and still going on 202 (a long log), and a refusal is an error', async () => {
    const calls: string[] = [];
    const answer = (status: number) =>
      (global.fetch = jest.fn(async (url: string, init: RequestInit) => {
        calls.push(`${init.method} ${url}`);
        return { ok: status < 300, status, statusText: '', text: async () => JSON.stringify({ message: 'a node is still closing it' }) } as Response;
      }) as unknown as typeof fetch);
    answer(204);
    expect(await api.deleteSession('s 1')).toBe('deleted');
    answer(202);
    expect(await api.deleteStream('r1')).toBe('deleting');
    answer(409);
    await expect(api.deleteStream('r1')).rejects.toMatchObject({ status: 409, message: 'a node is still closing it' });
    expect(calls).toEqual(['DELETE /api/sessions/s%201', 'DELETE /api/streams/r1', 'DELETE /api/streams/r1']);
  });
});
