import type { MissReason } from './session-events';

/**
 * A skipped capture (a stale frame, a view with nothing in it) is the camera's, not a request the device failed: the
 * metrics (device_miss_rate; skipped_captures counts them) and every page count it apart. On the default dataset
 * 17-40% of a camera's views hold nothing: counted as misses, every camera crossed the default 20% miss-rate rule,
 * and the pages said 40% where the metric and its alert said 0.
 */
export const NOT_CAPTURED: MissReason = 'skipped';

/** Whether a DeviceMissed reason is a miss of the device (timeout, disconnected, error, invalid). */
export const isDeviceMiss = (reason: MissReason): boolean => reason !== NOT_CAPTURED;

/** A device's (or a run's) requests, as device_miss_rate counts them. */
export interface MissTally {
  answered: number;
  /** DeviceMissed other than skipped captures. */
  missed: number;
  /** Skipped captures: nothing to answer. */
  notCaptured: number;
  /** Requests the device had a capture for: answered + missed. */
  captured: number;
  /** missed / captured; null without any. */
  missRate: number | null;
}

/** The tally of `answered` replies and `allMissed` DeviceMissed, `skipped` of which were skipped captures. */
export function missTally(answered: number, allMissed: number, skipped: number): MissTally {
  const missed = allMissed - skipped;
  const captured = answered + missed;
  return { answered, missed, notCaptured: skipped, captured, missRate: captured > 0 ? missed / captured : null };
}
