import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Metric, Registry } from 'prom-client';
import { ALERT_SEVERITIES } from '@ddnn/contracts';
import { subscriptionLag } from '@ddnn/events';
import { Database } from '../../database/database';
import { AlertsRepository } from '../alerts/alerts.repository';
import { CLUSTER_METRICS, DEVICE_LATENCY_BUCKETS, LATENCY_HISTOGRAMS } from './cluster-totals';

const CONNECTIVITY = ['never-connected', 'active', 'inactive', 'disconnected'] as const;
const APPEND_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

interface TotalsRow {
  name: string;
  labels: Record<string, string>;
  value: number;
}

type Sample = { value: number; labels: Record<string, string>; metricName?: string };

/**
 * A metric whose values are read from prometheus_totals at scrape time (prom-client keeps no state for it).
 * prom-client renders any registered object with name, help, type and get(); its own classes can only count
 * in-process, which would make each node report only what it happened to see.
 */
class TotalsMetric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    private readonly read: () => Promise<Sample[]>,
  ) {}

  readonly aggregator = 'omit';

  async get(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: string }> {
    return { name: this.name, help: this.help, type: this.type, values: await this.read(), aggregator: this.aggregator };
  }
}

/**
 * GET /metrics's registry. Two kinds of series:
 * - cluster series, the same on every node: devices by state, open alerts, subscription lag, webhook deliveries
 *   (read from their tables at scrape time) and the counters and histograms of what the log holds (samples, exits,
 *   bytes, misses, device latency, alerts fired: prometheus_totals, kept exactly once by one subscription).
 *   Aggregate them across nodes with max(), not sum().
 * - node series: this process (CPU, memory, event loop) and its event appends' latency.
 */
@Injectable()
export class PrometheusMetrics implements OnModuleDestroy {
  readonly registry = new Registry();
  private readonly stopObserving: () => void;
  /** One scrape's read of prometheus_totals, shared by the metrics that render it. */
  private totals: Promise<TotalsRow[]> | null = null;

  constructor(
    private readonly db: Database,
    private readonly alerts: AlertsRepository,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'ddnn_' });
    const append = new Histogram({
      name: 'ddnn_event_append_seconds',
      help: 'Duration of one batched append to the event log on this node (one statement, one commit).',
      buckets: APPEND_BUCKETS,
      registers: [this.registry],
    });
    const appendFailures = new Counter({
      name: 'ddnn_event_append_failures_total',
      help: 'Batched appends to the event log that failed on this node (an outage, a bad batch); their callers retry or fail.',
      registers: [this.registry],
    });
    this.stopObserving = db.writer.observe((b) => (b.ok ? append.observe(b.seconds) : appendFailures.inc()));
    const writer = db.writer;
    new Counter({
      name: 'ddnn_event_appends_fenced_total',
      help: "Appends of a run's events this node made after another node took the run over, refused by the run's fence: nothing is logged twice (the sample is dropped, unless an earlier attempt whose answer was lost had logged it).",
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(writer.stats.fencedAppends);
      },
    });

    const gauge = (name: string, help: string, labelNames: string[], read: (g: Gauge) => Promise<void>) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [this.registry],
        async collect() {
          this.reset();
          await read(this);
        },
      });
    gauge('ddnn_devices', 'Registered devices by connectivity state.', ['state'], async (g) => {
      const { rows } = await this.db.pool.query<{ state: string; n: string }>(
        `SELECT COALESCE(s.connectivity, 'never-connected') AS state, count(*) AS n
           FROM devices d LEFT JOIN device_statuses s ON s.device_id = d.id::text GROUP BY 1`,
      );
      for (const state of CONNECTIVITY) g.set({ state }, Number(rows.find((r) => r.state === state)?.n ?? 0));
    });
    gauge('ddnn_alerts_open', 'Open alerts by severity and state (pending or firing).', ['severity', 'state'], async (g) => {
      const counts = await this.alerts.openCounts();
      for (const severity of ALERT_SEVERITIES) {
        for (const state of ['pending', 'firing'] as const) g.set({ severity, state }, counts.find((c) => c.severity === severity && c.state === state)?.n ?? 0);
      }
    });
    gauge('ddnn_subscription_lag_events', 'Events committed to the log that a named subscriber (projections, totals, rollups) has not handled yet.', ['subscription'], async (g) => {
      const { rows } = await this.db.pool.query<{ name: string }>('SELECT name FROM subscription_checkpoints ORDER BY name');
      for (const { name } of rows) g.set({ subscription: name }, await subscriptionLag(this.db.store, name));
    });
    gauge('ddnn_webhook_deliveries', 'Webhook notifications by delivery status.', ['status'], async (g) => {
      const { rows } = await this.db.pool.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM webhook_deliveries GROUP BY status');
      for (const status of ['pending', 'delivered', 'failed']) g.set({ status }, Number(rows.find((r) => r.status === status)?.n ?? 0));
    });

    for (const m of Object.values(CLUSTER_METRICS)) {
      const [label, values] = Object.entries(m.labels)[0] as [string, readonly string[]];
      this.register(
        new TotalsMetric(m.name, m.help, 'counter', async () => {
          const rows = (await this.readTotals()).filter((r) => r.name === m.name);
          // Every label value appears, 0 until counted, so rate() sees a series from its start.
          return values.map((v) => ({ labels: { [label]: v }, value: rows.find((r) => r.labels[label] === v)?.value ?? 0 }));
        }),
      );
    }
    for (const h of Object.values(LATENCY_HISTOGRAMS)) {
      this.register(new TotalsMetric(h.name, h.help, 'histogram', async () => histogramSamples(h.name, await this.readTotals())));
    }
  }

  /** The text exposition (prom-client), reading the tables once per scrape. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    this.totals = null;
    try {
      return { contentType: this.registry.contentType, body: await this.registry.metrics() };
    } finally {
      this.totals = null;
    }
  }

  onModuleDestroy(): void {
    this.stopObserving();
  }

  private register(metric: TotalsMetric): void {
    this.registry.registerMetric(metric as unknown as Metric);
  }

  private readTotals(): Promise<TotalsRow[]> {
    this.totals ??= this.db.pool.query<TotalsRow>('SELECT name, labels, value FROM prometheus_totals').then((r) => r.rows);
    return this.totals;
  }
}

/** A histogram's samples from its stored (per bucket) counts: cumulative buckets, then _sum and _count. */
function histogramSamples(name: string, rows: TotalsRow[]): Sample[] {
  const of = (suffix: string) => rows.filter((r) => r.name === `${name}${suffix}`);
  const buckets = of('_bucket');
  const out: Sample[] = [];
  let cumulative = 0;
  for (const le of [...DEVICE_LATENCY_BUCKETS.map(String), '+Inf']) {
    cumulative += buckets.find((b) => b.labels.le === le)?.value ?? 0;
    out.push({ metricName: `${name}_bucket`, labels: { le }, value: cumulative });
  }
  out.push({ metricName: `${name}_sum`, labels: {}, value: of('_sum')[0]?.value ?? 0 });
  out.push({ metricName: `${name}_count`, labels: {}, value: of('_count')[0]?.value ?? 0 });
  return out;
}
