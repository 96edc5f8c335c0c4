import { EventEmitter } from 'node:events';
import type { StoredEvent } from '@ddnn/contracts';
import { Client, type PoolClient, type QueryResult } from 'pg';
import { compareCheckpoints, parseCheckpoint, START_CHECKPOINT } from './checkpoint';
import { EVENTS_CHANNEL } from './commit-notifier';
import type { EventStore } from './event-store';
import { inTransaction } from './pool';

export { EVENTS_CHANNEL };

export interface SubscriptionOptions {
  /**
   * Subscriber name: its checkpoint is stored in subscription_checkpoints and each batch is handled in the
   * transaction that moves it, so a restarted consumer resumes exactly where it stopped. Without a name the
   * checkpoint lives in memory only.
   */
  name?: string;
  /** Where a subscriber without a stored checkpoint starts (exclusive); default the beginning of the log. */
  after?: string;
  /**
   * Handles one batch in log order; with a name, `tx` is the open transaction that stores the checkpoint. `after`
   * is the checkpoint the batch follows (for a named subscriber the stored one, read under the row lock).
   */
  handle(events: StoredEvent[], tx: PoolClient | null, after: string): Promise<void>;
  batchSize?: number;
  /** Fallback polling when no notification arrives (default 1000 ms). */
  pollIntervalMs?: number;
  /** Called when a batch fails; the batch is retried after pollIntervalMs. */
  onError?(error: unknown): void;
  /** Set false to skip LISTEN and rely on polling only. */
  listen?: boolean;
  /**
   * Following the log live, a batch starts at most this often (default 0): what commits meanwhile waits for
   * the next batch instead of waking its own, for a consumer whose per-batch cost (a transaction, an upsert) is
   * worth more than its freshness. A full batch (catching up) goes on at once. Keep it off for heavy handlers:
   * a named batch holds a transaction id while it runs, and the xid8 rule holds back every reader of the log
   * (a read of one's own append included) until it commits, so bigger batches mean staler reads.
   */
  minBatchIntervalMs?: number;
}

/** Catch-up, then live: reads the log after its checkpoint, wakes on NOTIFY, polls as a fallback. */
export class Subscription {
  private cp: string;
  private running = false;
  private loop: Promise<void> | null = null;
  private listener: Client | null = null;
  private wake: (() => void) | null = null;
  /** A notification arrived while a batch was being read: do not sleep on the next idle turn. */
  private pendingWake = false;
  private readonly progress = new EventEmitter();
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly minBatchIntervalMs: number;
  /** Ends a wait between batches early (stop). */
  private endLinger: (() => void) | null = null;
  /** Batches handled and events handled since start. */
  readonly stats = { batches: 0, events: 0, errors: 0, listens: 0 };

  constructor(
    private readonly store: EventStore,
    private readonly options: SubscriptionOptions,
  ) {
    if (options.name !== undefined && !/^[\w.:-]{1,200}$/.test(options.name)) {
      throw new Error(`subscription name '${options.name}' must be 1-200 letters, digits, '_', '.', ':' or '-'`);
    }
    this.cp = options.after ?? START_CHECKPOINT;
    parseCheckpoint(this.cp);
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.minBatchIntervalMs = options.minBatchIntervalMs ?? 0;
    if (!(this.minBatchIntervalMs >= 0)) throw new Error(`subscription ${this.label}: minBatchIntervalMs must be >= 0, got ${options.minBatchIntervalMs}`);
    this.progress.setMaxListeners(0);
  }

  /** Checkpoint of the last event handled (in memory; the stored one for named subscribers is the same after each batch). */
  get checkpoint(): string {
    return this.cp;
  }

  /** Starts catching up, then follows the log live. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    if (this.options.listen !== false) await this.startListening();
    this.loop = this.run();
  }

  /** Stops after the batch in progress; the stored checkpoint stays where the last committed batch left it. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.wake?.();
    this.endLinger?.();
    await this.loop;
    this.loop = null;
    const l = this.listener;
    this.listener = null;
    await l?.end().catch(() => undefined);
  }

  /**
   * Handles batches until every event committed before this call is handled (useful for tests and for a
   * rebuild). Works whether or not the subscription is started.
   */
  async catchUp(timeoutMs = 30_000): Promise<void> {
    const target = await this.store.lastCommittedCheckpoint();
    if (this.running) return this.waitFor(target, timeoutMs);
    const deadline = Date.now() + timeoutMs;
    while (compareCheckpoints(this.cp, target) < 0) {
      const n = await this.step();
      if (n === 0) {
        if (Date.now() > deadline) throw new Error(`subscription ${this.label}: not caught up to ${target} within ${timeoutMs} ms`);
        await sleep(10);
      }
    }
  }

  /** Events committed after this subscriber's checkpoint (its lag behind the head). */
  lag(): Promise<number> {
    return this.store.countAfter(this.cp);
  }

  /** One batch: read after the checkpoint, handle, move the checkpoint. Returns the number of events handled. */
  async step(): Promise<number> {
    const { name } = this.options;
    if (name === undefined) {
      const after = this.cp;
      const page = await this.store.readAll({ after, limit: this.batchSize });
      if (page.events.length) await this.options.handle(page.events, null, after);
      return this.advance(page.events.length, page.checkpoint);
    }
    // Most wake-ups find nothing readable yet (the commit that woke them is held back by an older running
    // transaction, or a batch already took it): two thirds of all batches were empty transactions. Look first,
    // outside any transaction (the shared tail answers without a query when it is at the head). A checkpoint stored
    // ahead of ours is found in the transaction; one rewound behind ours (a rebuild) is replayed by the rebuild.
    const ahead = await this.store.readAll({ after: this.cp, limit: this.batchSize });
    if (ahead.events.length === 0) return this.advance(0, this.cp);
    const client = await this.store.pool.connect();
    // A backend terminated between the statements of this transaction must fail the batch, not the process.
    const onClientError = (): void => undefined;
    client.on('error', onClientError);
    let broken: Error | undefined;
    try {
      // Statements go in pairs, one round trip each (a batch is otherwise five round trips before its handler's):
      // the name is checked at construction and checkpoints are parsed, so both are safe as literals.
      const lockRow = async (): Promise<string | undefined> => {
        // The row lock serialises instances of one subscriber (and a rebuild's reset) batch by batch.
        const results = (await client.query(`BEGIN; SELECT checkpoint FROM subscription_checkpoints WHERE name = '${name}' FOR UPDATE`)) as unknown as QueryResult[];
        return (results[1].rows[0] as { checkpoint: string } | undefined)?.checkpoint;
      };
      let stored = await lockRow();
      if (stored === undefined) {
        // First batch of this subscriber ever (or its row was reset by a migration).
        await client.query('ROLLBACK');
        await client.query(`INSERT INTO subscription_checkpoints (name, checkpoint) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [
          name,
          this.options.after ?? START_CHECKPOINT,
        ]);
        stored = await lockRow();
        if (stored === undefined) throw new Error(`subscription ${name}: its checkpoint row vanished`);
      }
      parseCheckpoint(stored);
      const page = await this.store.readAll({ after: stored, limit: this.batchSize }, client);
      if (page.events.length) {
        await this.options.handle(page.events, client, stored);
        parseCheckpoint(page.checkpoint);
        await client.query(`UPDATE subscription_checkpoints SET checkpoint = '${page.checkpoint}', updated_at = now() WHERE name = '${name}'; COMMIT`);
      } else {
        await client.query('COMMIT');
      }
      return this.advance(page.events.length, page.checkpoint);
    } catch (e) {
      broken = e as Error;
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.off('error', onClientError);
      // A client whose batch failed may have lost its connection: never hand it out again.
      client.release(broken);
    }
  }

  private get label(): string {
    return this.options.name ?? '(unnamed)';
  }

  private advance(n: number, checkpoint: string): number {
    this.cp = checkpoint;
    if (n) {
      this.stats.batches++;
      this.stats.events += n;
    }
    this.progress.emit('progress');
    return n;
  }

  private async run(): Promise<void> {
    // After a notification that found nothing readable (a commit held back by an older running transaction),
    // retry soon and back off; otherwise wait for the next notification, or poll.
    let retryMs = 0;
    while (this.running) {
      let n: number;
      const began = performance.now();
      try {
        n = await this.step();
      } catch (e) {
        this.stats.errors++;
        this.options.onError?.(e);
        await this.sleepUntilWoken(this.pollIntervalMs);
        continue;
      }
      if (n > 0) {
        retryMs = 0;
        if (n < this.batchSize) await this.linger(began + this.minBatchIntervalMs - performance.now());
        continue;
      }
      const notified = await this.sleepUntilWoken(retryMs || this.pollIntervalMs);
      if (notified) retryMs = 5;
      else if (retryMs) retryMs = retryMs * 2 >= this.pollIntervalMs ? 0 : retryMs * 2;
    }
  }

  /** Waits `ms` (notifications do not end it; stop does). */
  private linger(ms: number): Promise<void> {
    if (ms <= 0 || !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.endLinger = null;
        resolve();
      }, ms);
      this.endLinger = () => {
        clearTimeout(timer);
        this.endLinger = null;
        resolve();
      };
    });
  }

  private sleepUntilWoken(ms: number): Promise<boolean> {
    if (this.pendingWake || !this.running) {
      this.pendingWake = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve(false);
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        this.pendingWake = false;
        resolve(true);
      };
    });
  }

  private notified(): void {
    if (this.wake) this.wake();
    else this.pendingWake = true;
  }

  /** True while the LISTEN connection is open (false: polling only, a reconnect is pending). */
  get listening(): boolean {
    return this.listener !== null;
  }

  /**
   * Opens the LISTEN connection. When it drops (a terminated backend, a restarted server) it is re-opened
   * with backoff while the subscription runs, and a wake-up on reconnect reads what committed meanwhile.
   */
  private async startListening(): Promise<void> {
    const client = new Client({ ...this.store.pool.options, application_name: `${this.store.pool.options.application_name ?? 'ddnn'}-listen` });
    client.on('notification', () => this.notified());
    let lost = false;
    const onLost = (e?: unknown) => {
      if (lost) return;
      lost = true;
      if (e !== undefined) this.options.onError?.(e);
      if (this.listener === client) this.listener = null;
      client.end().catch(() => undefined);
      this.scheduleReconnect();
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
      if (lost) return;
      if (!this.running) {
        lost = true;
        await client.end().catch(() => undefined);
        return;
      }
      this.listener = client;
      this.reconnectDelayMs = 0;
      this.stats.listens++;
      // Anything committed while no one listened is read now, not at the next poll.
      this.notified();
    } catch (e) {
      // Polling still delivers everything, only later; the reconnect keeps trying.
      onLost(e);
    }
  }

  private reconnectDelayMs = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;

  private scheduleReconnect(): void {
    if (!this.running || this.options.listen === false || this.reconnectTimer) return;
    this.reconnectDelayMs = Math.min(Math.max(this.reconnectDelayMs * 2, 100), 5000);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.running && !this.listener) void this.startListening();
    }, this.reconnectDelayMs);
    this.reconnectTimer.unref();
  }

  private waitFor(target: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (compareCheckpoints(this.cp, target) >= 0) {
          cleanup();
          resolve();
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`subscription ${this.label}: not caught up to ${target} within ${timeoutMs} ms (at ${this.cp})`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.progress.off('progress', check);
      };
      this.progress.on('progress', check);
      check();
    });
  }
}

/** Catch-up then live delivery of the log to `handle`; resolves once started. */
export async function subscribe(store: EventStore, options: SubscriptionOptions): Promise<Subscription> {
  const s = new Subscription(store, options);
  await s.start();
  return s;
}

/**
 * Rebuilds a named subscriber's read model from the whole log: clears `tables` and rewinds its checkpoint in one
 * transaction (serialised with a live instance by the checkpoint row lock), then replays with `replay` until caught up.
 */
export async function rebuildSubscriber(
  store: EventStore,
  name: string,
  tables: readonly string[],
  replay: () => Subscription,
  timeoutMs: number,
): Promise<{ events: number }> {
  await inTransaction(store.pool, async (tx) => {
    await tx.query(`INSERT INTO subscription_checkpoints (name, checkpoint) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [name, START_CHECKPOINT]);
    await tx.query('SELECT 1 FROM subscription_checkpoints WHERE name = $1 FOR UPDATE', [name]);
    for (const table of tables) await tx.query(`DELETE FROM ${table}`);
    await tx.query('UPDATE subscription_checkpoints SET checkpoint = $2, updated_at = now() WHERE name = $1', [name, START_CHECKPOINT]);
  });
  const subscription = replay();
  await subscription.catchUp(timeoutMs);
  return { events: subscription.stats.events };
}

/** Stored checkpoint of a named subscriber, or null when it never ran. */
export async function storedCheckpoint(store: EventStore, name: string): Promise<string | null> {
  const { rows } = await store.pool.query<{ checkpoint: string }>('SELECT checkpoint FROM subscription_checkpoints WHERE name = $1', [name]);
  return rows.length ? rows[0].checkpoint : null;
}

/** A named subscriber's lag: events committed after its stored checkpoint (all events when it never ran). */
export async function subscriptionLag(store: EventStore, name: string): Promise<number> {
  return store.countAfter((await storedCheckpoint(store, name)) ?? START_CHECKPOINT);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
