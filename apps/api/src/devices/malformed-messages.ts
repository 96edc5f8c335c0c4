import { Logger } from '@nestjs/common';

/** At most one log line per device per this many ms about its malformed messages. */
export const MALFORMED_LOG_INTERVAL_MS = 60_000;

interface DeviceTally {
  total: number;
  /** Counted since the last log line. */
  unlogged: number;
  lastLoggedAt: number;
  lastProblem: string;
}

/**
 * Counts malformed messages per device (bad payloads, unknown events, garbage acks) and logs them at most
 * once a minute per device with the count, so a broken or hostile device cannot flood the log.
 */
export class MalformedMessages {
  private readonly logger = new Logger('DeviceProtocol');
  private readonly tallies = new Map<string, DeviceTally>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly write: (line: string) => void = (line) => this.logger.warn(line),
  ) {}

  /** Counts one malformed message of `deviceId`; logs now if the device's last line is a minute old. */
  record(deviceId: string, deviceName: string, problem: string): void {
    const now = this.now();
    let t = this.tallies.get(deviceId);
    if (!t) {
      t = { total: 0, unlogged: 0, lastLoggedAt: -Infinity, lastProblem: '' };
      this.tallies.set(deviceId, t);
    }
    t.total++;
    t.unlogged++;
    t.lastProblem = problem.length > 300 ? `${problem.slice(0, 300)}...` : problem;
    if (now - t.lastLoggedAt < MALFORMED_LOG_INTERVAL_MS) return;
    this.write(
      `device ${deviceName} (${deviceId}) sent ${t.unlogged} malformed message(s) since the last report (${t.total} in all); latest: ${t.lastProblem}`,
    );
    t.unlogged = 0;
    t.lastLoggedAt = now;
  }

  /** Malformed messages counted for a device since this node started. */
  count(deviceId: string): number {
    return this.tallies.get(deviceId)?.total ?? 0;
  }
}
