import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Client } from 'pg';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { nodeId } from '../config/node-id';
import { Database } from './database';
import { DATABASE_RUNTIME, type DatabaseRuntime } from './database.tokens';

/** A node's advisory lock key, as SQL of an expression giving its id as text (its own namespace: never a run's or a simulation's). */
const nodeLockKey = (id: string): string => `hashtextextended('ddnn-node:' || ${id}, 0)`;

/**
 * How often a lost presence lock is taken again (a database restart drops every node's at once): well within the two
 * polls another node waits after such a restart before it takes a node's simulations for a dead one's.
 */
const RECLAIM_MS = 1_000;
const CONNECT_TIMEOUT_MS = 5_000;
const QUERY_TIMEOUT_MS = 5_000;

/**
 * Which API nodes are running, as the database sees them: each node holds a session-level advisory lock named after
 * its node id on a connection of its own, so a node that dies (killed, its host gone, its connection dropped) stops
 * being present at once, and any node can ask which of some node ids are present. Rows that name a node (a device's
 * `node`) are then told apart: a live node's, or one nobody will ever update again.
 *
 * Without this, a node starting up without Redis could not tell another live node's devices from those a previous
 * run of its own left marked active, and marked them all disconnected.
 */
@Injectable()
export class NodePresence implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(NodePresence.name);
  readonly node: string;
  private client: Client | null = null;
  private announcing: Promise<boolean> | null = null;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Another process holds this node id's lock (two processes given one DDNN_NODE_ID): warned once until it changes. */
  private shadowed = false;

  constructor(
    private readonly db: Database,
    @Inject(DATABASE_RUNTIME) private readonly runtime: DatabaseRuntime,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.node = nodeId(config);
  }

  async onModuleInit(): Promise<void> {
    await this.announce();
    this.timer = setInterval(() => void this.announce(), RECLAIM_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.announcing?.catch(() => undefined);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  /** Holds this node's presence lock, taking it again when its connection was lost; false while it is not held. */
  announce(): Promise<boolean> {
    if (this.client) return Promise.resolve(true);
    if (this.closed) return Promise.resolve(false);
    this.announcing ??= this.take().finally(() => (this.announcing = null));
    return this.announcing;
  }

  private async take(): Promise<boolean> {
    const client = new Client({
      connectionString: this.runtime.url,
      application_name: `ddnn-node-${this.node}`.slice(0, 63),
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: QUERY_TIMEOUT_MS,
    });
    // A dropped connection is a lost lock, taken again at the next round; never a crash.
    client.on('error', () => undefined);
    try {
      await client.connect();
      const { rows } = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${nodeLockKey('$1')}) AS locked`, [this.node]);
      if (!rows[0].locked) {
        if (!this.shadowed) this.logger.warn(`another live process is API node "${this.node}" (DDNN_NODE_ID given to two processes?): its devices and runs are taken for this node's`);
        this.shadowed = true;
        await client.end();
        return false;
      }
      if (this.closed) {
        await client.end();
        return false;
      }
      this.shadowed = false;
      client.on('end', () => {
        if (this.client === client) this.client = null;
      });
      this.client = client;
      return true;
    } catch (e) {
      await client.end().catch(() => undefined);
      this.logger.warn(`cannot announce this node's presence (retried every ${RECLAIM_MS / 1000} s): ${(e as Error).message}`);
      return false;
    }
  }

  /**
   * Of `nodes`, those running now: their presence lock is held, by them. This node counts as present whatever its
   * lock's state (its rows are its own to judge). One query on the pool.
   */
  async present(nodes: readonly string[]): Promise<Set<string>> {
    const others = [...new Set(nodes.filter((n) => n !== this.node))];
    const present = new Set<string>([this.node]);
    if (others.length === 0) return present;
    // An advisory lock on one bigint key shows in pg_locks as its high half (classid) and low half (objid), objsubid 1;
    // it is the database's own (pg_locks lists every database's: other platforms on the same server have nodes too).
    const { rows } = await this.db.pool.query<{ node: string }>(
      `SELECT node FROM unnest($1::text[]) AS node
        WHERE EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
                        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                        AND ((l.classid::int8 << 32) | l.objid::int8) = ${nodeLockKey('node')})`,
      [others],
    );
    for (const r of rows) present.add(r.node);
    return present;
  }
}
