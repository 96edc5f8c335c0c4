import { emptySessionSummary, foldSessionEvents, type DeviceStatus, type SessionSummary, type SessionSummaryStatus, type StoredEvent } from '@ddnn/contracts';
import type { PoolClient } from 'pg';
import { compareCheckpoints } from '../checkpoint';
import { DatabaseUnavailableError } from '../database-errors';
import type { EventStore, Queryable } from '../event-store';
import { rebuildSubscriber, Subscription, subscriptionLag, type SubscriptionOptions } from '../subscription';
import { deviceRunTallies, devicesOf, emptyDeviceStatus, foldDeviceEvents, withoutRunShare } from './device-status';
import { applyWithRunDeletions } from './run-deletions';
import { sessionOf } from './session-summary';

/** Subscriber name of the projections (its checkpoint row in subscription_checkpoints). */
export const PROJECTIONS_SUBSCRIBER = 'projections';

/** Rows kept in memory at most (beyond, the cache starts over: a miss costs one read). */
const MAX_CACHED_ROWS = 2000;

/**
 * The projections' rows as this process last wrote them, valid while the stored checkpoint is the one its last
 * batch moved to: only the projections write session_summaries and device_statuses, each batch under the
 * subscription's checkpoint row lock (a rebuild too, which also moves the checkpoint), so a batch that starts
 * where this process's last one ended finds the tables as it left them. Reading each batch's rows back (a
 * summary is a few kB of jsonb) was a round trip per table and batch and most of their database CPU.
 */
export class ProjectionRows {
  /** The checkpoint of the last batch written through this cache, or null (nothing known). */
  private checkpoint: string | null = null;
  readonly sessions = new Map<string, SessionSummary>();
  readonly devices = new Map<string, DeviceStatus>();

  /** Forgets everything unless the batch follows the last one this cache saw. */
  follow(after: string): void {
    if (after === this.checkpoint && this.sessions.size + this.devices.size <= MAX_CACHED_ROWS) return;
    this.sessions.clear();
    this.devices.clear();
    this.checkpoint = null;
  }

  /** Takes the rows a batch wrote; `checkpoint` is where it moves the subscription (valid once it commits). */
  wrote(checkpoint: string, sessions: Map<string, SessionSummary>, devices: Map<string, DeviceStatus>): void {
    for (const [id, s] of sessions) this.sessions.set(id, s);
    for (const [id, d] of devices) this.devices.set(id, d);
    this.checkpoint = checkpoint;
  }
}

const READ_ROWS = `SELECT 's' AS kind, session_id AS id, summary AS row FROM session_summaries WHERE session_id = ANY ($1::text[])
  UNION ALL SELECT 'd', device_id, status FROM device_statuses WHERE device_id = ANY ($2::text[])`;

// One statement for both tables (an empty array inserts nothing).
const WRITE_ROWS = `WITH s AS (
    INSERT INTO session_summaries (session_id, status, summary, updated_at)
    SELECT x.id, x.status, x.summary, now() FROM unnest($1::text[], $2::text[], $3::jsonb[]) AS x(id, status, summary)
    ON CONFLICT (session_id) DO UPDATE SET status = excluded.status, summary = excluded.summary, updated_at = now()
    RETURNING 1
  ), d AS (
    INSERT INTO device_statuses (device_id, connectivity, status, updated_at)
    SELECT x.id, x.connectivity, x.status, now() FROM unnest($4::text[], $5::text[], $6::jsonb[]) AS x(id, connectivity, status)
    ON CONFLICT (device_id) DO UPDATE SET connectivity = excluded.connectivity, status = excluded.status, updated_at = now()
    RETURNING 1
  ), r AS (
    INSERT INTO device_run_counts (run_id, device_id, answered, missed, not_captured)
    SELECT * FROM unnest($7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::bigint[])
    ON CONFLICT (run_id, device_id) DO UPDATE
      SET answered = device_run_counts.answered + excluded.answered, missed = device_run_counts.missed + excluded.missed,
          not_captured = device_run_counts.not_captured + excluded.not_captured
    RETURNING 1
  ) SELECT (SELECT count(*) FROM s) + (SELECT count(*) FROM d) + (SELECT count(*) FROM r) AS n`;

/**
 * Applies one batch of the log to the session_summaries and device_statuses tables (and each device's counts by
 * run, device_run_counts), inside `tx` (which holds the projections' checkpoint row lock): reads the rows the batch
 * touches that `rows` does not hold (one round trip), writes them back (one round trip). A RunDeleted drops its
 * run's summary and takes its share back from its devices' counters (see applyWithRunDeletions).
 */
export function applyProjections(events: StoredEvent[], tx: Queryable, rows = new ProjectionRows()): Promise<void> {
  return applyWithRunDeletions(
    events,
    (part) => foldIntoTables(part, tx, rows),
    async (runId) => {
      rows.sessions.delete(runId);
      await deleteSessionSummary(tx, runId);
      await takeBackRunCounts(tx, runId, rows);
    },
  );
}

/**
 * A deleted run's share of its devices' `answered`, `missed` and `notCaptured`: subtracted from their statuses and its rows
 * dropped. A rebuild from the log, which no longer holds the run's events, never counted it and finds no rows.
 */
async function takeBackRunCounts(tx: Queryable, runId: string, rows: ProjectionRows): Promise<void> {
  const { rows: shares } = await tx.query<{ device_id: string; answered: string; missed: string; not_captured: string; status: DeviceStatus | null }>(
    `WITH gone AS (DELETE FROM device_run_counts WHERE run_id = $1 RETURNING device_id, answered, missed, not_captured)
     SELECT g.device_id, g.answered, g.missed, g.not_captured, s.status FROM gone g LEFT JOIN device_statuses s ON s.device_id = g.device_id`,
    [runId],
  );
  const next = shares.flatMap((r) => {
    const prev = rows.devices.get(r.device_id) ?? r.status;
    return prev ? [withoutRunShare(prev, { answered: Number(r.answered), missed: Number(r.missed), notCaptured: Number(r.not_captured) })] : [];
  });
  if (!next.length) return;
  await tx.query(
    `UPDATE device_statuses d SET connectivity = x.connectivity, status = x.status, updated_at = now()
     FROM unnest($1::text[], $2::text[], $3::jsonb[]) AS x(id, connectivity, status) WHERE d.device_id = x.id`,
    [next.map((d) => d.deviceId), next.map((d) => d.connectivity), next.map((d) => JSON.stringify(d))],
  );
  // Forgotten, not updated: the cache holds what a committed batch wrote (its checkpoint says which), and this write
  // commits only with the batch; a batch that fails and is retried would take the share back from it a second time.
  for (const d of next) rows.devices.delete(d.deviceId);
}

/** A run's summary row: gone with the run (run-deletion.ts, and the projections at its RunDeleted). */
export async function deleteSessionSummary(tx: Queryable, runId: string): Promise<void> {
  await tx.query('DELETE FROM session_summaries WHERE session_id = $1', [runId]);
}

async function foldIntoTables(events: StoredEvent[], tx: Queryable, rows: ProjectionRows): Promise<void> {
  const sessions = new Map<string, StoredEvent[]>();
  const devices = new Map<string, StoredEvent[]>();
  for (const e of events) {
    const s = sessionOf(e);
    if (s !== null) push(sessions, s, e);
    for (const d of devicesOf(e)) push(devices, d, e);
  }
  if (!sessions.size && !devices.size) return;
  const missingSessions = [...sessions.keys()].filter((id) => !rows.sessions.has(id));
  const missingDevices = [...devices.keys()].filter((id) => !rows.devices.has(id));
  const stored = { sessions: new Map<string, SessionSummary>(), devices: new Map<string, DeviceStatus>() };
  if (missingSessions.length || missingDevices.length) {
    const read = await tx.query<{ kind: 's' | 'd'; id: string; row: SessionSummary | DeviceStatus }>(READ_ROWS, [missingSessions, missingDevices]);
    for (const r of read.rows) {
      if (r.kind === 's') stored.sessions.set(r.id, r.row as SessionSummary);
      else stored.devices.set(r.id, r.row as DeviceStatus);
    }
  }
  const nextSessions = new Map<string, SessionSummary>();
  for (const [id, list] of sessions) {
    nextSessions.set(id, foldSessionEvents(rows.sessions.get(id) ?? stored.sessions.get(id) ?? emptySessionSummary(id), list));
  }
  const nextDevices = new Map<string, DeviceStatus>();
  for (const [id, list] of devices) {
    nextDevices.set(id, foldDeviceEvents(rows.devices.get(id) ?? stored.devices.get(id) ?? emptyDeviceStatus(id), list));
  }
  const s = [...nextSessions];
  const d = [...nextDevices];
  const r = [...deviceRunTallies(events).values()];
  await tx.query(WRITE_ROWS, [
    s.map(([id]) => id),
    s.map(([, x]) => x.status),
    s.map(([, x]) => JSON.stringify(x)),
    d.map(([id]) => id),
    d.map(([, x]) => x.connectivity),
    d.map(([, x]) => JSON.stringify(x)),
    r.map((x) => x.runId),
    r.map((x) => x.deviceId),
    r.map((x) => x.answered),
    r.map((x) => x.missed),
    r.map((x) => x.notCaptured),
  ]);
  rows.wrote(events[events.length - 1].checkpoint, nextSessions, nextDevices);
}

/**
 * How often the projections take a batch while following the log live. Each batch rewrites every summary it
 * touches whole (a running session's is a few kilobytes of JSON, parsed again by the server as jsonb) in a
 * transaction of its own: at a batch per commit a session rewrote its summary some twenty times a second. Lists read
 * the table, so they trail the log by up to this much more (the summary of one session is folded to the head).
 * A second, not less: at the demo's 2 samples/s every commit was a batch of its own (~7 statements; 2.2 a second),
 * a third of an idle node's statements, for lists that operators reload every few seconds.
 */
export const PROJECTIONS_BATCH_INTERVAL_MS = 1000;

/** The projections' subscription (not started): session summaries and device status kept current from the log. */
export function projectionsSubscription(
  store: EventStore,
  options: Omit<SubscriptionOptions, 'name' | 'handle'> = {},
): Subscription {
  const rows = new ProjectionRows();
  return new Subscription(store, {
    minBatchIntervalMs: PROJECTIONS_BATCH_INTERVAL_MS,
    ...options,
    name: PROJECTIONS_SUBSCRIBER,
    handle: (events, tx, after) => {
      rows.follow(after);
      return applyProjections(events, tx as PoolClient, rows);
    },
  });
}

/**
 * Rebuilds both projections from the whole log: clears them and rewinds the checkpoint in one transaction
 * (serialised with a running live instance by the checkpoint row lock), then replays until caught up.
 */
export async function rebuildProjections(store: EventStore, timeoutMs = 600_000): Promise<{ events: number }> {
  return rebuildSubscriber(store, PROJECTIONS_SUBSCRIBER, ['session_summaries', 'device_statuses', 'device_run_counts'], () => projectionsSubscription(store, { batchSize: 2000, listen: false }), timeoutMs);
}

/** The projections' lag: events committed after their stored checkpoint. */
export function projectionsLag(store: EventStore): Promise<number> {
  return subscriptionLag(store, PROJECTIONS_SUBSCRIBER);
}

/** One session's stored summary (it may lag the log), or null when the projection has not seen the session. */
export async function getSessionSummary(db: Queryable, sessionId: string): Promise<SessionSummary | null> {
  const { rows } = await db.query<{ summary: SessionSummary }>('SELECT summary FROM session_summaries WHERE session_id = $1', [sessionId]);
  return rows.length ? rows[0].summary : null;
}

/** The stored summaries (they may lag the log) of the given sessions, by id; sessions not yet seen are absent. */
export async function sessionSummariesByIds(db: Queryable, sessionIds: string[]): Promise<Map<string, SessionSummary>> {
  if (sessionIds.length === 0) return new Map();
  const { rows } = await db.query<{ session_id: string; summary: SessionSummary }>(
    'SELECT session_id, summary FROM session_summaries WHERE session_id = ANY ($1)',
    [sessionIds],
  );
  return new Map(rows.map((r) => [r.session_id, r.summary]));
}

/**
 * `summary` folded on with the events of its log stream after its checkpoint, to the head of the log: from the
 * stored projection (getSessionSummary, a batch or so behind) only the few events since are read, not the run.
 *
 * `through`: a checkpoint the fold must reach, e.g. the caller's own append. Reads of the log hold back a commit
 * while any older transaction still runs (the xid8 rule), so an append is not readable the moment it returns:
 * without `through` a caller folding right after its own append may fold without it (a label request once
 * answered "31 labelled" after logging its 19th..50th label). Waits for it up to `timeoutMs`, then reports the
 * database as unavailable (a transaction running that long is an outage to the caller, who may retry). `complete`:
 * waits the same way for every event committed before the call (a run that has ended: all of it).
 */
export async function foldToHead(
  store: EventStore,
  streamId: string,
  summary: SessionSummary,
  options: { through?: string; timeoutMs?: number; complete?: boolean } = {},
): Promise<SessionSummary> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  /** Polls `readable` with a growing pause until it holds; past the deadline, the database is unavailable. */
  const waitFor = async (readable: () => Promise<boolean>, checkpoint: string): Promise<void> => {
    for (let wait = 2; !(await readable()); wait = Math.min(wait * 2, 50)) {
      if (Date.now() >= deadline) throw new DatabaseUnavailableError(`the log did not make ${checkpoint} readable within ${options.timeoutMs ?? 10_000} ms`);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  };
  // Every event committed before the call readable first. An ended run's status is written after its last commit,
  // which the xid8 rule may still hold back from readers behind an older transaction: folded at once, a completed
  // session showed 642 of its 680 samples labelled (monitoring e2e, once). A fold that already read the run's end
  // read all of it.
  if (options.complete && summary.status === 'running') {
    const last = await store.lastCommittedCheckpoint();
    await waitFor(async () => compareCheckpoints(await store.headCheckpoint(), last) >= 0, last);
  }
  const { through } = options;
  await waitFor(async () => {
    for (;;) {
      const page = await store.readStreamAfter(streamId, { after: summary.checkpoint ?? undefined, limit: 1000 });
      summary = foldSessionEvents(summary, page.events);
      if (!page.hasMore) break;
    }
    return through === undefined || (summary.checkpoint !== null && compareCheckpoints(summary.checkpoint, through) >= 0);
  }, through ?? '');
  return summary;
}

/** Session summaries, most recently updated first, optionally of one status. */
export async function listSessionSummaries(
  db: Queryable,
  options: { status?: SessionSummaryStatus; limit?: number; offset?: number } = {},
): Promise<SessionSummary[]> {
  const { rows } = await db.query<{ summary: SessionSummary }>(
    `SELECT summary FROM session_summaries WHERE ($1::text IS NULL OR status = $1)
      ORDER BY updated_at DESC, session_id LIMIT $2 OFFSET $3`,
    [options.status ?? null, options.limit ?? 100, options.offset ?? 0],
  );
  return rows.map((r) => r.summary);
}

/** One device's status, or null. */
export async function getDeviceStatus(db: Queryable, deviceId: string): Promise<DeviceStatus | null> {
  const { rows } = await db.query<{ status: DeviceStatus }>('SELECT status FROM device_statuses WHERE device_id = $1', [deviceId]);
  return rows.length ? rows[0].status : null;
}

/** The stored statuses (they may lag the log) of the given devices, by id; devices not yet seen are absent. */
export async function deviceStatusesByIds(db: Queryable, deviceIds: string[]): Promise<Map<string, DeviceStatus>> {
  if (deviceIds.length === 0) return new Map();
  const { rows } = await db.query<{ device_id: string; status: DeviceStatus }>(
    'SELECT device_id, status FROM device_statuses WHERE device_id = ANY ($1)',
    [deviceIds],
  );
  return new Map(rows.map((r) => [r.device_id, r.status]));
}

/** Every device's status, by device id. */
export async function listDeviceStatuses(db: Queryable): Promise<DeviceStatus[]> {
  const { rows } = await db.query<{ status: DeviceStatus }>('SELECT status FROM device_statuses ORDER BY device_id');
  return rows.map((r) => r.status);
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}
