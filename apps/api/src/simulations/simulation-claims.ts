import { ServiceUnavailableException } from '@nestjs/common';
import { Client } from 'pg';

/** A simulation's advisory lock key, as SQL of an expression giving its id as text (its own namespace: never a run's). */
const simulationLockKey = (id: string): string => `hashtextextended('ddnn-simulation:' || ${id}, 0)`;

/**
 * The pool's values (libs/events/src/pool.ts): a database that does not answer fails a connect or a query in seconds
 * instead of holding a reconcile round, a DELETE or a shutdown for minutes (a connect to a host gone after a failover
 * hangs until the OS gives up).
 */
const CONNECT_TIMEOUT_MS = 5000;
const QUERY_TIMEOUT_MS = 5000;

/**
 * `acquired`: this call took the lock. `held`: this node held it already (a lock is reentrant within its session, so
 * Postgres says true either way: only this node's own count tells a claim from one it made earlier). `refused`:
 * another node holds it.
 */
export type Claim = 'acquired' | 'held' | 'refused';

/** The application name of a node's lock connection (what an operator sees of it in pg_stat_activity). */
export const lockConnectionName = (node: string): string => `ddnn-simulations-${node}`.slice(0, 63);


/**
 * Which node runs a recorded simulation: the one holding its session-level advisory lock, as a run belongs to the node
 * holding its lock (orchestrator/advisory-lock.ts), so the lock goes when the node dies and one other node claims the
 * simulation. Unlike a run's, the locks of all of a node's simulations share one connection: a node may run dozens of
 * simulations, and a backend each would take that many of the server's connections for locks alone. The connection is
 * opened at the first claim; when it ends its locks go with it, and `verify` (each poll) tells which ones this node
 * no longer holds, from what the server says rather than from this process's memory: a connection the server
 * dropped without this process hearing of it (half-open after a failover) looks alive here until a query on it fails.
 */
export class SimulationClaims {
  private client: Client | null = null;
  private connecting: Promise<Client> | null = null;
  private readonly held = new Set<string>();
  private closed = false;
  private everConnected = false;
  /** When a connection was opened again after one was lost (null: never lost). */
  private reopenedAt: number | null = null;

  constructor(
    private readonly databaseUrl: string,
    private readonly applicationName: string,
  ) {}

  /** Takes a simulation's lock without waiting. Refused after `close`: a request during shutdown opens no connection. */
  async tryClaim(id: string): Promise<Claim> {
    if (this.held.has(id)) return 'held';
    const client = await this.connection();
    const { rows } = await this.query<{ locked: boolean }>(client, `SELECT pg_try_advisory_lock(${simulationLockKey('$1')}) AS locked`, [id]);
    if (!rows[0].locked) return 'refused';
    // The connection ended (its locks with it) while the answer was on its way.
    if (this.client !== client) throw new Error(`the simulations' lock connection was lost while claiming simulation ${id}`);
    this.held.add(id);
    return 'acquired';
  }

  /** True while this node counts the lock as its own (`verify` checks that with the server). */
  holds(id: string): boolean {
    return this.held.has(id);
  }

  /**
   * Of `ids` (simulations this node runs), those whose lock the connection does not hold now, asked of the server in
   * one query (none when `ids` is empty). A connection that does not answer is dropped: all of them, then.
   */
  async verify(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const client = this.client;
    const claimed = ids.filter((id) => this.held.has(id));
    if (!client || claimed.length === 0) return ids;
    try {
      // An advisory lock on one bigint key shows in pg_locks as its high half (classid) and low half (objid), objsubid 1.
      const { rows } = await this.query<{ id: string }>(
        client,
        `SELECT id FROM unnest($1::text[]) AS id
          WHERE EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.pid = pg_backend_pid() AND l.objsubid = 1 AND l.granted
                          AND ((l.classid::int8 << 32) | l.objid::int8) = ${simulationLockKey('id')})`,
        [claimed],
      );
      const present = new Set(rows.map((r) => r.id));
      for (const id of claimed) if (!present.has(id)) this.held.delete(id);
      return ids.filter((id) => !present.has(id));
    } catch {
      this.drop(client);
      return ids;
    }
  }

  /** Of other nodes' simulations, those locked now (by any session of this database), asked of the server in one query without taking any lock. */
  async survey(ids: string[]): Promise<Set<string>> {
    const client = await this.connection();
    const { rows } = await this.query<{ id: string }>(
      client,
      `SELECT id FROM unnest($1::text[]) AS id
        WHERE EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
                        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                        AND ((l.classid::int8 << 32) | l.objid::int8) = ${simulationLockKey('id')})`,
      [ids],
    );
    return new Set(rows.map((r) => r.id));
  }

  /**
   * True when this node's lock connection was opened again, after one was lost, less than `ms` ago: the server may
   * have dropped every node's at once (a restart, a failover), and the others may not have reconnected yet.
   */
  reopenedWithin(ms: number): boolean {
    return this.reopenedAt !== null && Date.now() - this.reopenedAt < ms;
  }

  /** Lets a simulation go (stopped for good, or found to be another node's to run). */
  async release(id: string): Promise<void> {
    if (!this.held.delete(id) || !this.client) return;
    await this.query(this.client, `SELECT pg_advisory_unlock(${simulationLockKey('$1')})`, [id]).catch(() => undefined);
  }

  /** Ends the connection: every lock of this node goes (at shutdown, after its simulations stopped); no claim after. */
  async close(): Promise<void> {
    this.closed = true;
    const client = this.client ?? (await this.connecting?.catch(() => null));
    this.client = null;
    this.held.clear();
    if (!client) return;
    // Bounded: ending a connection to a server gone quiet waits for TCP to give up.
    await Promise.race([client.end().catch(() => undefined), new Promise((r) => setTimeout(r, QUERY_TIMEOUT_MS).unref())]);
  }

  private connection(): Promise<Client> {
    if (this.closed) return Promise.reject(new ServiceUnavailableException('this node is shutting down: try another node, or again once it is back'));
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => (this.connecting = null));
    return this.connecting;
  }

  private async connect(): Promise<Client> {
    const client = new Client({ connectionString: this.databaseUrl, application_name: this.applicationName, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, keepAlive: true });
    // A dropped connection must not crash the node: its locks are gone, which the next poll's `verify` finds.
    client.on('error', () => undefined);
    client.on('end', () => {
      if (this.client === client) this.forgetConnection();
    });
    try {
      await client.connect();
    } catch (e) {
      void client.end().catch(() => undefined);
      throw e;
    }
    // Closed while connecting: this connection takes no lock.
    if (this.closed) {
      void client.end().catch(() => undefined);
      throw new ServiceUnavailableException('this node is shutting down');
    }
    this.client = client;
    if (this.everConnected) this.reopenedAt = Date.now();
    this.everConnected = true;
    return client;
  }

  /** A query on the lock connection that fails after QUERY_TIMEOUT_MS, the connection then dropped (it may be half-open). */
  private async query<T extends object>(client: Client, text: string, values: unknown[]): Promise<{ rows: T[] }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.drop(client);
        reject(new Error(`the simulations' lock connection did not answer within ${QUERY_TIMEOUT_MS} ms`));
      }, QUERY_TIMEOUT_MS);
    });
    try {
      return await Promise.race([client.query<T>(text, values), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops counting on a connection: its locks are taken as gone (the server lets them go when it sees the socket close). */
  private drop(client: Client): void {
    if (this.client === client) this.forgetConnection();
    void client.end().catch(() => undefined);
  }

  private forgetConnection(): void {
    this.client = null;
    this.held.clear();
  }
}
