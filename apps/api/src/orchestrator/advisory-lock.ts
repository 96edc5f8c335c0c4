import { Client, type Notification } from 'pg';

/** The channel a stop request notifies, with the run's id as payload (SessionStore.requestStop). */
export const RUN_STOP_CHANNEL = 'ddnn_run_stop';

/** The advisory lock key of a run, as SQL of an expression giving its id as text: its owner holds it, a deletion tries it. */
export const runLockKey = (id: string): string => `hashtextextended('ddnn-session:' || ${id}, 0)`;

/**
 * A session-level Postgres advisory lock on its own connection: held while this node runs the session and
 * released when the node stops or dies (the connection closes), so another node can take the session over.
 */
export class SessionLock {
  private constructor(
    private readonly client: Client,
    readonly sessionId: string,
  ) {}

  /** Tries to take the lock for a session without waiting; null when another node holds it. */
  static async tryAcquire(databaseUrl: string, sessionId: string): Promise<SessionLock | null> {
    const client = new Client({ connectionString: databaseUrl, application_name: `ddnn-session-${sessionId}` });
    // A dropped connection must not crash the node: its query fails, and a lost lock is what the runner notices.
    client.on('error', () => undefined);
    await client.connect();
    try {
      const { rows } = await client.query<{ locked: boolean }>(
        `SELECT pg_try_advisory_lock(${runLockKey('$1')}) AS locked`,
        [sessionId],
      );
      if (rows[0].locked) return new SessionLock(client, sessionId);
    } catch (e) {
      await client.end().catch(() => undefined);
      throw e;
    }
    await client.end();
    return null;
  }

  /**
   * The lock's own connection, for the run's polls of its row: a query answered on it is also proof the lock is
   * still held, so a poll costs one round trip instead of two.
   */
  get connection(): Pick<Client, 'query'> {
    return this.client;
  }

  /**
   * Listens on the lock's connection for a stop of this run (`onStop`) and for the connection's end, which is the
   * lock's loss (`onLost`); resolves to the cancel once listening.
   */
  async watchStop(onStop: () => void, onLost: () => void): Promise<() => void> {
    const onNotification = (m: Notification): void => {
      if (m.channel === RUN_STOP_CHANNEL && m.payload === this.sessionId) onStop();
    };
    this.client.on('notification', onNotification);
    this.client.on('end', onLost);
    const cancel = (): void => {
      this.client.off('notification', onNotification);
      this.client.off('end', onLost);
    };
    try {
      await this.client.query(`LISTEN ${RUN_STOP_CHANNEL}`);
    } catch (e) {
      cancel();
      throw e;
    }
    return cancel;
  }

  /** True while the lock's connection is alive. */
  async stillHeld(): Promise<boolean> {
    try {
      await this.client.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async release(): Promise<void> {
    await this.client
      .query(`SELECT pg_advisory_unlock(${runLockKey('$1')})`, [this.sessionId])
      .catch(() => undefined);
    await this.client.end().catch(() => undefined);
  }
}
