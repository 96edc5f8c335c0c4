/**
 * Strata of the accuracy estimate. A confidence means different things for different predicted classes (a
 * model may be sure and wrong about one class more often than another), and in a DDNN for samples where most
 * end devices agreed with the fused answer and for those where they did not: a sample the devices disputed is
 * more often wrong at the same confidence. So each answering exit's confidences are counted and calibrated per
 * stratum: the predicted class and whether at least half the devices that answered agreed with it.
 *
 * Histogram keys are `<class>:<agree 0|1>:<bin>`; a bare `<bin>` (rollups written before strata) belongs to no
 * stratum and counts toward the exit's pooled calibration only.
 */

/** The stratum of a decided sample: its predicted class and whether most devices' own argmax agreed with it. */
export function stratumKey(prediction: number, devicesAgree: boolean): string {
  return `${prediction}:${devicesAgree ? 1 : 0}`;
}

/** True when at least half the devices that answered predicted `prediction` themselves (false when none did). */
export function devicesAgree(devicePredictions: readonly number[], prediction: number): boolean {
  if (devicePredictions.length === 0) return false;
  let agree = 0;
  for (const p of devicePredictions) if (p === prediction) agree++;
  return 2 * agree >= devicePredictions.length;
}

/** The histogram key of a confidence bin within a stratum. */
export function stratifiedBin(stratum: string, bin: number): string {
  return `${stratum}:${bin}`;
}

/** A key's stratum ('' for a bare bin) and bin; null for anything malformed. */
export function parseStratifiedBin(key: string): { stratum: string; bin: number } | null {
  const m = /^(?:(\d{1,6}:[01]):)?(\d{1,6})$/.exec(key);
  return m ? { stratum: m[1] ?? '', bin: Number(m[2]) } : null;
}

/** The coarser strata a stratum backs off to when the reference never saw it: its class, then the pooled exit. */
export function stratumFallbacks(stratum: string): string[] {
  if (stratum === '') return [''];
  return [stratum, stratum.split(':')[0], ''];
}
