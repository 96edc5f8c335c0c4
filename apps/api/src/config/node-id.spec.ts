import { hostname } from 'node:os';
import { SessionScheduler } from '../orchestrator/session-scheduler';
import { loadConfig } from './config';
import { nodeId } from './node-id';

describe('nodeId (DDNN_NODE_ID honoured everywhere)', () => {
  it('is DDNN_NODE_ID when set, else host-pid', () => {
    expect(nodeId(loadConfig({ DDNN_NODE_ID: 'node-a' }))).toBe('node-a');
    expect(nodeId(loadConfig({}))).toBe(`${hostname()}-${process.pid}`);
  });

  it('names the session scheduler, which records it as the owner of the sessions it runs', async () => {
    const config = loadConfig({ DDNN_NODE_ID: 'node-b' });
    const markRunning = jest.fn(async () => undefined);
    const none = null as never;
    const scheduler = new SessionScheduler(config, none, { markRunning } as never, none, none, none, none, none, none, none);
    expect(scheduler.node).toBe('node-b');
    // What the runner calls when it takes a session: the owner written to the sessions table.
    const deps = (scheduler as unknown as { deps(lock: unknown): { markRunning(id: string, n: number): Promise<void> } }).deps(null);
    await deps.markRunning('s-1', 12);
    expect(markRunning).toHaveBeenCalledWith('s-1', 'node-b', 12);
  });
});
