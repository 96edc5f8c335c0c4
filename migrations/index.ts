import type { MigrationInterface } from 'typeorm';
import { EventStore1764230400000 } from './1764230400000-event-store';
import { Subscriptions1764230400001 } from './1764230400001-subscriptions';
import { Projections1764230400002 } from './1764230400002-projections';
import { AppendEventsBatchJson1764403200000 } from './1764403200000-append-events-batch-json';
import { AppendEventsNotifyAfterCommit1764489600000 } from './1764489600000-append-events-notify-after-commit';
import { AppendEventsLessPerEventWork1764576000000 } from './1764576000000-append-events-less-per-event-work';
import { AppendBatchFastPath1764662400000 } from './1764662400000-append-batch-fast-path';
import { Devices1764259200000 } from './1764259200000-devices';
import { Sessions1764316800000 } from './1764316800000-sessions';
import { SessionSummaryShape1764748800000 } from './1764748800000-session-summary-shape';
import { RunsAndDeviceLifecycle1764835200000 } from './1764835200000-runs-and-device-lifecycle';
import { DeviceStatusCounters1764928800000 } from './1764928800000-device-status-counters';
import { StreamRuns1765000000010 } from './1765000000010-stream-runs';
import { PartitionedEvents1765100000000 } from './1765100000000-partitioned-events';
import { MetricsRollup1765200000001 } from './1765200000001-metrics-rollup';
import { Alerts1765300000010 } from './1765300000010-alerts';
import { StreamSampleIndex1765400000000 } from './1765400000000-stream-sample-index';
import { MetricsRollupJsonColumns1765400000005 } from './1765400000005-metrics-rollup-json-columns';
import { MetricsPeerAgreement1765400000010 } from './1765400000010-metrics-peer-agreement';
import { AppendBatchBranchProbes1765500000000 } from './1765500000000-append-batch-branch-probes';
import { AppendBatchGenericPlans1765600000000 } from './1765600000000-append-batch-generic-plans';
import { ReadLogGenericPlan1765700000000 } from './1765700000000-read-log-generic-plan';
import { StreamLogOrderIndex1765900000000 } from './1765900000000-stream-log-order-index';
import { StreamFences1766000000000 } from './1766000000000-stream-fences';
import { MetricRollupSampleAges1766100000000 } from './1766100000000-metric-rollup-sample-ages';
import { SectionsEvaluatedSampleIndex1766200000000 } from './1766200000000-sections-evaluated-sample-index';
import { DeviceRunCounts1766300000000 } from './1766300000000-device-run-counts';
import { RunDeletionRequests1766300000001 } from './1766300000001-run-deletion-requests';
import { DeviceNotCaptured1766400000000 } from './1766400000000-device-not-captured';
import { DeviceNamesUnique1766500000000 } from './1766500000000-device-names-unique';
import { UnansweredSampleIndex1766600000000 } from './1766600000000-unanswered-sample-index';
import { MetricsUnanswered1766600000001 } from './1766600000001-metrics-unanswered';
import { Simulations1766700000000 } from './1766700000000-simulations';
import { MetricsStreamGaps1766750000000 } from './1766750000000-metrics-stream-gaps';

export { READ_LOG_PAGE } from './1765700000000-read-log-generic-plan';

/** Every schema migration, oldest first; the API and the tests run them in this order. */
export const migrations: (new () => MigrationInterface)[] = [
  EventStore1764230400000,
  Subscriptions1764230400001,
  Projections1764230400002,
  Devices1764259200000,
  Sessions1764316800000,
  AppendEventsBatchJson1764403200000,
  AppendEventsNotifyAfterCommit1764489600000,
  AppendEventsLessPerEventWork1764576000000,
  AppendBatchFastPath1764662400000,
  SessionSummaryShape1764748800000,
  RunsAndDeviceLifecycle1764835200000,
  DeviceStatusCounters1764928800000,
  StreamRuns1765000000010,
  PartitionedEvents1765100000000,
  MetricsRollup1765200000001,
  Alerts1765300000010,
  StreamSampleIndex1765400000000,
  MetricsRollupJsonColumns1765400000005,
  MetricsPeerAgreement1765400000010,
  AppendBatchBranchProbes1765500000000,
  AppendBatchGenericPlans1765600000000,
  ReadLogGenericPlan1765700000000,
  StreamLogOrderIndex1765900000000,
  StreamFences1766000000000,
  MetricRollupSampleAges1766100000000,
  SectionsEvaluatedSampleIndex1766200000000,
  DeviceRunCounts1766300000000,
  RunDeletionRequests1766300000001,
  DeviceNotCaptured1766400000000,
  DeviceNamesUnique1766500000000,
  UnansweredSampleIndex1766600000000,
  MetricsUnanswered1766600000001,
  Simulations1766700000000,
  MetricsStreamGaps1766750000000,
];
