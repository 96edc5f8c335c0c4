import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Client } from 'pg';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { nodeId } from '../config/node-id';
import { Database } from './database';
import { DATABASE_RUNTIME, type DatabaseRuntime } from './database.tokens';

/** A node's advisory lock key, as SQL of an expression giving its id as text (its own namespace: never a run's or a simulation's). */
const nodeLockKey = (id: string): string => `hashtextextended('ddnn-node:' || ${id}, 0)`;

/**
 * How often the presence lock is checked, and taken again when lost (a database restart drops every node's at once).
 * The check is a query on the lock's own connection: a connection the server dropped without this process hearing of
 * it (half-open after a failover or a NAT's idle drop) never ends by itself, and would leave the node absent for good.
 */
const TICK_MS = 1_000;
const CONNECT_TIMEOUT_MS = 5_000;
const QUERY_TIMEOUT_MS = 5_000;
/**
 * How long after the server started, or after this node had to take its lock again, what pg_locks says of other nodes
 * is not trusted: every node's lock went at once, and each takes it back within a tick and a connect.
 */
export const PRESENCE_SETTLE_MS = 2 * TICK_MS + CONNECT_TIMEOUT_MS;
/** One warning a minute at most while the database cannot be reached. */
const WARN_EVERY_MS = 60_000;

/** What `present` tells: the nodes running, and whether that can be trusted yet (`settled`). */
export interface Presence {
  nodes: Set<string>;
  /**
   * False just after the server started or this node's own lock was lost and taken again: other nodes may not have
   * taken theirs back yet, so one absent now is not known to be dead.
   */
  settled: boolean;
}

/**
 * Which API nodes are running, as the database sees them: each node holds a session-level advisory lock named after
 * its node id on a connection of its own, so a node that dies (killed, its connection dropped) stops being present
 * (a host that vanishes, once the server's TCP keepalives give up on it: set to about 25 s on that connection), and any
 * node can ask which of some node ids are present. Rows that name a node (a device's `node`, a simulation's) are then
 * told apart: a live node's, or one nobody will ever update again.
 *
 * Without this, a node starting up without Redis could not tell another live node's devices from those a previous
 * run of its own left marked active, and marked them all disconnected.
 */
@Injectable()
export class NodePresence implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(NodePresence.name);
  readonly node: string;
  private client: Client | null = null;
  private ticking: Promise<boolean> | null = null;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private lastWarnAt = 0;
  /** When this node took its lock again after holding it before (null: never lost). */
  private reopenedAt: number | null = null;
  private everHeld = false;
  /** Another process holds this node id's lock (two processes given one DDNN_NODE_ID). */
  private shadowedBy = false;

  constructor(
    private readonly db: Database,
    @Inject(DATABASE_RUNTIME) private readonly runtime: DatabaseRuntime,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.node = nodeId(config);
  }

  /** True while another live process holds this node id's presence: its rows are not this process's to release. */
  get shadowed(): boolean {
    return this.shadowedBy;
  }

  async onModuleInit(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking?.catch(() => undefined);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  /** Checks the presence lock on its connection, taking it again when lost; false while it is not held. */
  tick(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    this.ticking ??= (this.client ? this.check(this.client) : this.take()).finally(() => (this.ticking = null));
    return this.ticking;
  }

  /** The lock still held on `client`, asked of the server (bounded by the query timeout); else dropped and taken again. */
  private async check(client: Client): Promise<boolean> {
    try {
      const { rows } = await client.query<{ held: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.pid = pg_backend_pid() AND l.objsubid = 1 AND l.granted
                          AND ((l.classid::int8 << 32) | l.objid::int8) = ${nodeLockKey('$1')}) AS held`,
        [this.node],
      );
      if (rows[0].held) return true;
    } catch {
      // The connection is gone or half-open: its lock with it, as far as anyone can count on.
    }
    if (this.client === client) this.client = null;
    await client.end().catch(() => undefined);
    return this.take();
  }

  private async take(): Promise<boolean> {
    const client = new Client({
      connectionString: this.runtime.url,
      application_name: `ddnn-node-${this.node}`.slice(0, 63),
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
      keepAlive: true,
    });
    // A dropped connection is a lost lock, taken again at the next tick; never a crash.
    client.on('error', () => undefined);
    client.on('end', () => {
      if (this.client === client) this.client = null;
    });
    try {
      await client.connect();
      // The server gives up on a vanished host after ~25 s instead of its default two hours, and its lock goes then.
      await client.query('SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3');
      const { rows } = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${nodeLockKey('$1')}) AS locked`, [this.node]);
      if (!rows[0].locked || this.closed) {
        if (!rows[0].locked && !this.shadowedBy) {
          this.logger.warn(`another live process is API node "${this.node}" (DDNN_NODE_ID given to two processes?): this one leaves that one's devices and simulations alone`);
        }
        this.shadowedBy = !rows[0].locked;
        await client.end();
        return false;
      }
      if (this.shadowedBy) this.logger.log(`API node "${this.node}" is this process's alone again`);
      this.shadowedBy = false;
      if (this.everHeld) this.reopenedAt = Date.now();
      this.everHeld = true;
      this.client = client;
      return true;
    } catch (e) {
      await client.end().catch(() => undefined);
      if (Date.now() - this.lastWarnAt >= WARN_EVERY_MS) {
        this.lastWarnAt = Date.now();
        this.logger.warn(`cannot announce this node's presence (tried again every ${TICK_MS / 1000} s): ${(e as Error).message}`);
      }
      return false;
    }
  }

  /**
   * Of `nodes`, those running now: their presence lock is held, by them. This node counts as present whatever its
   * lock's state (its rows are its own to judge). One query on the pool.
   */
  async present(nodes: readonly string[]): Promise<Presence> {
    const others = [...new Set(nodes.filter((n) => n !== this.node))];
    // An advisory lock on one bigint key shows in pg_locks as its high half (classid) and low half (objid), objsubid 1;
    // it is the database's own (pg_locks lists every database's: other platforms on the same server have nodes too).
    const { rows } = await this.db.pool.query<{ present: string[]; own: boolean; up_ms: number }>(
      `WITH held AS (SELECT (l.classid::int8 << 32) | l.objid::int8 AS key FROM pg_locks l
                      WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
                        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()))
       SELECT ARRAY(SELECT node FROM unnest($1::text[]) AS node WHERE ${nodeLockKey('node')} IN (SELECT key FROM held)) AS present,
              ${nodeLockKey('$2')} IN (SELECT key FROM held) AS own,
              (extract(epoch FROM now() - pg_postmaster_start_time()) * 1000)::float8 AS up_ms`,
      [others, this.node],
    );
    // An embedded database is this process's own: no other node can be on it, and a restart of both is one event.
    // This node's own lock missing from the server asked (a standby promoted keeps its start time, and this node has not
    // seen its connection go yet): every lock may have gone with the old primary.
    const settled =
      this.runtime.embedded ||
      (rows[0].own && rows[0].up_ms >= PRESENCE_SETTLE_MS && (this.reopenedAt === null || Date.now() - this.reopenedAt >= PRESENCE_SETTLE_MS));
    return { nodes: new Set([this.node, ...rows[0].present]), settled };
  }
}
