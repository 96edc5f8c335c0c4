import type { SessionTopology } from '@ddnn/contracts';
import type { DeviceRequester } from './ports';

/** The devices a run (session or stream) needs on the line: its end devices and its edge nodes run by a device. */
export function topologyDeviceIds(spec: { topology: SessionTopology }): string[] {
  return [...spec.topology.devices.map((d) => d.deviceId), ...(spec.topology.edges ?? []).flatMap((e) => (e.deviceId === null ? [] : [e.deviceId]))];
}

/** A device connected now, and through which connection (a new one may have lost what the old one was sent). */
export interface DeviceConnection {
  deviceId: string;
  connectionId: string;
}

export interface DeviceWaitOptions {
  /** Devices connected now (to this node or, clustered, to any node). */
  connected(): Promise<DeviceConnection[]>;
  /** Give up at once (stop requested, node shutting down). */
  halted(): boolean;
  /** Of `ids`, those no longer registered: a deleted device never comes back, so nothing waits for it. */
  unregistered?(ids: string[]): Promise<string[]>;
  waitMs: number;
  pollMs?: number;
}

/** How often a run waiting for its devices asks which of them are still registered. */
const REGISTRY_POLL_MS = 1000;

/**
 * Waits until every device is connected, up to `waitMs` (a resumed session's devices reattach with backoff
 * after their node died), except deleted ones (a stream using a deleted device waited the whole DDNN_DEVICE_WAIT_MS
 * at every resume). Returns the ids still missing, in topology order, those of them deleted, how long it waited,
 * and the connections it saw last (what ReturningDevices compares later ones with).
 */
export async function waitForDevices(
  ids: string[],
  opts: DeviceWaitOptions,
): Promise<{ missing: string[]; deleted: string[]; waitedMs: number; connections: DeviceConnection[] }> {
  const t0 = performance.now();
  const pollMs = opts.pollMs ?? 200;
  let deleted: string[] = [];
  let lastAsked = -Infinity;
  for (;;) {
    // Asked again every REGISTRY_POLL_MS: a device deleted while the run waits is not waited for either. One that
    // cannot be asked about (the database away) is waited for.
    if (opts.unregistered && performance.now() - lastAsked >= REGISTRY_POLL_MS) {
      lastAsked = performance.now();
      const gone = new Set(await opts.unregistered(ids).catch(() => [] as string[]));
      deleted = ids.filter((id) => gone.has(id));
    }
    const connections = await opts.connected().catch(() => [] as DeviceConnection[]);
    const connected = new Set(connections.map((c) => c.deviceId));
    const missing = ids.filter((id) => !connected.has(id));
    const waitedMs = Math.round(performance.now() - t0);
    const awaited = missing.filter((id) => !deleted.includes(id));
    if (awaited.length === 0 || waitedMs >= opts.waitMs || opts.halted()) return { missing, deleted: deleted.filter((id) => missing.includes(id)), waitedMs, connections };
    await new Promise((r) => setTimeout(r, Math.min(pollMs, opts.waitMs - waitedMs)));
  }
}

/** The devices a run goes on without, for its log line: deleted ones, then those not connected in time. */
export function absentText(absent: { missing: string[]; deleted: string[]; waitedMs: number }): string {
  const late = absent.missing.filter((id) => !absent.deleted.includes(id));
  return [
    ...(absent.deleted.length ? [`${absent.deleted.join(', ')} (deleted)`] : []),
    ...(late.length ? [`${late.join(', ')} (not connected after ${absent.waitedMs} ms)`] : []),
  ].join(', ');
}

/** How long a request to a device being deployed again waits for the deploy (a section arrives in tens of ms). */
export const REDEPLOY_WAIT_MS = 250;
/** The wait before a failed deploy is tried again, doubled after each failure up to the maximum. */
const REDEPLOY_BACKOFF_MS = 1_000;
const REDEPLOY_BACKOFF_MAX_MS = 60_000;

/**
 * Watches a running session's devices: when one that was away comes back, or one reconnected (a new connection:
 * an agent restarted, or rebooted, before its old connection was found dead), `redeploy` makes sure it has its
 * section again (a restarted agent has none), so the session runs without it only while it is away. The run's poll
 * looks every second; a request to a device on a connection not seen yet looks at once (pending, redeployedFirst).
 */
export class ReturningDevices {
  private readonly wanted: Set<string>;
  private seen: Map<string, string>;
  /** The look in flight, if any: a second caller shares it. */
  private looking: Promise<void> | null = null;
  /** The devices the look in flight is redeploying. */
  private redeploying = new Set<string>();
  /**
   * Devices whose last deploy failed (it timed out, the agent refused it): deployed again at a look once `at` has come,
   * waiting twice as long after each failure. A failed device counted as seen kept every request of the run missing
   * "no model section installed" until it reconnected.
   */
  private readonly failing = new Map<string, { failures: number; at: number }>();

  /**
   * `redeploy` deploys every section the run's devices lack and resolves to the devices whose deploy failed (none: void);
   * `failedAtStart`, those of the run's own first deploy.
   */
  constructor(
    ids: string[],
    initial: DeviceConnection[],
    private readonly connected: () => Promise<DeviceConnection[]>,
    private readonly redeploy: () => Promise<string[] | void>,
    private readonly log?: (message: string) => void,
    failedAtStart: string[] = [],
    private readonly now: () => number = Date.now,
  ) {
    this.wanted = new Set(ids);
    this.seen = this.mine(initial);
    this.failed(failedAtStart);
  }

  private failed(ids: string[]): void {
    for (const id of ids) {
      if (!this.wanted.has(id)) continue;
      const failures = (this.failing.get(id)?.failures ?? 0) + 1;
      this.failing.set(id, { failures, at: this.now() + Math.min(REDEPLOY_BACKOFF_MAX_MS, REDEPLOY_BACKOFF_MS * 2 ** (failures - 1)) });
    }
  }

  private mine(connections: DeviceConnection[]): Map<string, string> {
    return new Map(connections.filter((c) => this.wanted.has(c.deviceId)).map((c) => [c.deviceId, c.connectionId]));
  }

  /** One look (called on the run's poll): redeploys when a device that was away is back, or is on a new connection. */
  check(): Promise<void> {
    return (this.looking ??= this.look().finally(() => (this.looking = null)));
  }

  /**
   * What a request to `deviceId`, reachable through `connectionId` now (undefined: not attached to this node, which
   * the poll looks for), waits for first: its redeploy when the run has not seen that connection yet or is
   * redeploying it, null (the usual case, nothing to wait for) otherwise. The run's poll noticed a new connection up
   * to a second late, and the samples asked of it meanwhile were missed: "no model section installed".
   */
  pending(deviceId: string, connectionId: string | undefined): Promise<void> | null {
    if (connectionId === undefined || !this.wanted.has(deviceId)) return null;
    if (!this.redeploying.has(deviceId) && this.seen.get(deviceId) === connectionId) return null;
    return this.redeployed(deviceId, connectionId);
  }

  private async redeployed(deviceId: string, connectionId: string): Promise<void> {
    // A look already under way may have asked for the connections before this one came: then one more look. Bounded:
    // a look that fails (the connections cannot be asked) leaves the request to go ahead as before.
    for (let looks = 0; looks < 3; looks++) {
      if (this.redeploying.has(deviceId)) await this.looking;
      else if (this.seen.get(deviceId) === connectionId) return;
      else await this.check();
    }
  }

  private async look(): Promise<void> {
    try {
      const now = this.mine(await this.connected());
      const back = [...now].filter(([id, connection]) => this.seen.get(id) !== connection).map(([id]) => id);
      const retry = [...now.keys()].filter((id) => !back.includes(id) && (this.failing.get(id)?.at ?? Infinity) <= this.now());
      this.seen = now;
      if (back.length === 0 && retry.length === 0) return;
      this.redeploying = new Set([...back, ...retry]);
      if (back.length) this.log?.(`device(s) ${back.join(', ')} back or reconnected: deploying their sections`);
      if (retry.length) this.log?.(`device(s) ${retry.join(', ')} failed their last deploy: deploying their sections again`);
      const failed = new Set((await this.redeploy()) ?? []);
      for (const id of this.redeploying) if (!failed.has(id)) this.failing.delete(id);
      this.failed([...this.redeploying].filter((id) => failed.has(id)));
    } catch (e) {
      this.log?.(`checking returning devices failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.redeploying = new Set();
    }
  }
}

/** A device whose section is still being deployed again when its request's wait ran out (redeployedFirst). */
export class RedeployingError extends Error {
  constructor(deviceId: string) {
    super(`device ${deviceId} reconnected and its section is still being deployed`);
  }
}

/**
 * A run's requests, each to a device on a connection the run has not redeployed to yet held until it has: only that
 * device's requests wait, at most REDEPLOY_WAIT_MS (and the request's timeout), then fail at once as not served
 * (RedeployingError): a deploy can take a device's whole deploy timeout, and every sample held that long would fill a
 * fast stream's window and drop every camera's triggers. Features are asked of a sample already scored and are not
 * held: a restarted device has lost them whatever happens, one on a new connection still holds them.
 * `connectionOf`: the connection a device is attached to this node through (DeviceTransport.connectionOf).
 */
export function redeployedFirst(requester: DeviceRequester, returning: () => ReturningDevices | null, connectionOf: (deviceId: string) => string | undefined): DeviceRequester {
  return {
    request: (deviceId, req, timeoutMs) => {
      const wait = req.stage === 'features' ? null : (returning()?.pending(deviceId, connectionOf(deviceId)) ?? null);
      return wait ? afterWait(deviceId, wait, timeoutMs, (left) => requester.request(deviceId, req, left)) : requester.request(deviceId, req, timeoutMs);
    },
  };
}

/** Runs `then` once `wait` settles, with what is left of `timeoutMs`; a RedeployingError when the wait runs out first. */
async function afterWait<T>(deviceId: string, wait: Promise<void>, timeoutMs: number, then: (leftMs: number) => Promise<T>): Promise<T> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const done = await Promise.race([wait.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), Math.min(timeoutMs, REDEPLOY_WAIT_MS))))]);
  clearTimeout(timer);
  const left = timeoutMs - (performance.now() - t0);
  if (!done || left < 1) throw new RedeployingError(deviceId);
  return then(left);
}
