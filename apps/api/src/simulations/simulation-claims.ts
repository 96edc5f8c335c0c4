import { Client } from 'pg';

/** A simulation's advisory lock key, as SQL of an expression giving its id as text (its own namespace: never a run's). */
const simulationLockKey = (id: string): string => `hashtextextended('ddnn-simulation:' || ${id}, 0)`;

/**
 * Which node runs a recorded simulation: the one holding its session-level advisory lock, as a run belongs to the node
 * holding its lock (orchestrator/advisory-lock.ts), so the lock goes when the node dies and one other node claims the
 * simulation. Unlike a run's, the locks of all of a node's simulations share one connection: a node may run dozens of
 * simulations, and a backend each would take that many of the server's connections for locks alone. The connection is
 * opened at the first claim; when it ends (the database cut it, or went away) its locks go with it: `takeLost` names
 * them, for the node to claim them again or to stop the simulations another node claimed meanwhile.
 */
export class SimulationClaims {
  private client: Client | null = null;
  private connecting: Promise<Client> | null = null;
  private readonly held = new Set<string>();
  private readonly lost = new Set<string>();

  constructor(
    private readonly databaseUrl: string,
    private readonly applicationName: string,
  ) {}

  /** Takes a simulation's lock without waiting: true when this node holds it now (or held it already). */
  async tryClaim(id: string): Promise<boolean> {
    if (this.held.has(id)) return true;
    const client = await this.connection();
    const { rows } = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${simulationLockKey('$1')}) AS locked`, [id]);
    if (rows[0].locked) {
      this.held.add(id);
      this.lost.delete(id);
    }
    return rows[0].locked;
  }

  /** Lets a simulation go (stopped for good, or found to be another node's to run). */
  async release(id: string): Promise<void> {
    this.lost.delete(id);
    if (!this.held.delete(id)) return;
    await this.client?.query(`SELECT pg_advisory_unlock(${simulationLockKey('$1')})`, [id]).catch(() => undefined);
  }

  /** The claims the connection took with it when it ended since the last call (each named once). */
  takeLost(): string[] {
    const ids = [...this.lost];
    this.lost.clear();
    return ids;
  }

  /** Names a claim as lost again (it could not be checked this time). */
  markLost(id: string): void {
    if (!this.held.has(id)) this.lost.add(id);
  }

  /** Ends the connection: every lock of this node goes (at shutdown, after its simulations stopped). */
  async close(): Promise<void> {
    const client = this.client ?? (await this.connecting?.catch(() => null));
    this.client = null;
    this.held.clear();
    this.lost.clear();
    await client?.end().catch(() => undefined);
  }

  private connection(): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => (this.connecting = null));
    return this.connecting;
  }

  private async connect(): Promise<Client> {
    const client = new Client({ connectionString: this.databaseUrl, application_name: this.applicationName });
    // A dropped connection must not crash the node: the claims it held are lost, and the next poll looks at them.
    client.on('error', () => undefined);
    client.on('end', () => {
      if (this.client !== client) return;
      this.client = null;
      for (const id of this.held) this.lost.add(id);
      this.held.clear();
    });
    try {
      await client.connect();
    } catch (e) {
      await client.end().catch(() => undefined);
      throw e;
    }
    this.client = client;
    return client;
  }
}
