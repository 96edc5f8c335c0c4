import { Inject, Injectable } from '@nestjs/common';
import type { AlertMetric, AlertSubjectRef } from '@ddnn/contracts';
import { getDeviceStatus, listDeviceStatuses } from '@ddnn/events';
import { Database } from '../../database/database';
import { once, type ReadMemo } from '../metrics/metrics.service';
import { METRIC_READER, type MetricReader } from './metric-reader';

/**
 * A rule's metric for one subject: `device_inactive` from the device status projection (1 inactive or
 * disconnected, 0 active, null before the device first connected), every other metric from the MetricReader.
 */
@Injectable()
export class AlertMetricReader {
  constructor(
    private readonly db: Database,
    @Inject(METRIC_READER) private readonly metrics: MetricReader,
  ) {}

  async read(metric: AlertMetric, subject: AlertSubjectRef, windowMs: number, memo?: ReadMemo): Promise<number | null> {
    if (metric !== 'device_inactive') return this.metrics.latest(metric, subject, windowMs, undefined, memo);
    if (!subject.deviceId) return null;
    // A round reads every device's status once (the three default device rules cover every device).
    const status = memo
      ? ((await once(memo, 'device-statuses', async () => new Map((await listDeviceStatuses(this.db.pool)).map((s) => [s.deviceId, s])))).get(subject.deviceId) ?? null)
      : await getDeviceStatus(this.db.pool, subject.deviceId);
    if (!status) return null;
    switch (status.connectivity) {
      case 'active':
        return 0;
      case 'inactive':
      case 'disconnected':
        return 1;
      case 'never-connected':
        return null;
    }
  }
}
