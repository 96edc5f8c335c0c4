import { missTally, type DeviceSessionStats, type MissTally, NOT_CAPTURED, type SessionSummary } from '@ddnn/contracts';

/** One device's tally from its summary stats (missTally: device_miss_rate's rule). */
export function deviceMisses(t: Pick<DeviceSessionStats, 'answered' | 'missed' | 'missedByReason'>): MissTally {
  // Summaries stored before a reason existed lack its key.
  return missTally(t.answered, t.missed, t.missedByReason?.[NOT_CAPTURED] ?? 0);
}

/** The run's tally: its devices' counts summed (the summary keeps no per-reason total of its own). */
export function runMisses(s: Pick<SessionSummary, 'devices'>): MissTally {
  let answered = 0;
  let missed = 0;
  let skipped = 0;
  for (const t of Object.values(s.devices)) {
    answered += t.answered;
    missed += t.missed;
    skipped += t.missedByReason?.[NOT_CAPTURED] ?? 0;
  }
  return missTally(answered, missed, skipped);
}
