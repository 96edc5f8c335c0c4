import type { SessionTopology } from '@ddnn/contracts';

/** The devices a run (session or stream) needs on the line: its end devices and its edge nodes run by a device. */
export function topologyDeviceIds(spec: { topology: SessionTopology }): string[] {
  return [...spec.topology.devices.map((d) => d.deviceId), ...(spec.topology.edges ?? []).flatMap((e) => (e.deviceId === null ? [] : [e.deviceId]))];
}

export interface DeviceWaitOptions {
  /** Device ids connected now (to this node or, clustered, to any node). */
  connected(): Promise<string[]>;
  /** Give up at once (stop requested, node shutting down). */
  halted(): boolean;
  waitMs: number;
  pollMs?: number;
}

/**
 * Waits until every device is connected, up to `waitMs` (a resumed session's devices reattach with backoff
 * after their node died). Returns the ids still missing, in topology order, and how long it waited.
 */
export async function waitForDevices(ids: string[], opts: DeviceWaitOptions): Promise<{ missing: string[]; waitedMs: number }> {
  const t0 = performance.now();
  const pollMs = opts.pollMs ?? 200;
  for (;;) {
    const connected = new Set(await opts.connected().catch(() => [] as string[]));
    const missing = ids.filter((id) => !connected.has(id));
    const waitedMs = Math.round(performance.now() - t0);
    if (missing.length === 0 || waitedMs >= opts.waitMs || opts.halted()) return { missing, waitedMs };
    await new Promise((r) => setTimeout(r, Math.min(pollMs, opts.waitMs - waitedMs)));
  }
}

/**
 * Watches a running session's devices: when one that was away comes back, `redeploy` makes sure it has its
 * section again (a restarted agent has none), so the session runs without it only while it is away.
 */
export class ReturningDevices {
  private away: Set<string>;
  private busy = false;

  constructor(
    private readonly ids: string[],
    missing: string[],
    private readonly connected: () => Promise<string[]>,
    private readonly redeploy: () => Promise<void>,
    private readonly log?: (message: string) => void,
  ) {
    this.away = new Set(missing);
  }

  /** One look (called on the run's poll): redeploys when a device that was away is back. */
  async check(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const now = new Set(await this.connected());
      const back = [...this.away].filter((id) => now.has(id));
      this.away = new Set(this.ids.filter((id) => !now.has(id)));
      if (back.length === 0) return;
      this.log?.(`device(s) ${back.join(', ')} back: deploying their sections`);
      await this.redeploy();
    } catch (e) {
      this.log?.(`checking returning devices failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.busy = false;
    }
  }
}
