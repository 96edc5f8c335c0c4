import { Client } from 'pg';
import type { StoredEvent } from '@ddnn/contracts';
import type { EventStore } from '@ddnn/events';

/**
 * Follows the event log from its head: woken by the store's NOTIFY on every append (and a slow poll as a
 * safety net), it reads everything committed since its checkpoint in log order and hands it on.
 */
export class LogTail {
  private listener: Client | null = null;
  private poll: NodeJS.Timeout | undefined;
  private checkpoint: string | null = null;
  private reading: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly store: EventStore,
    private readonly onEvents: (events: StoredEvent[]) => void,
    private readonly onError: (e: unknown) => void,
    private readonly pollMs = 1000,
  ) {}

  async start(): Promise<void> {
    this.checkpoint = await this.store.headCheckpoint();
    const client = new Client({ connectionString: this.databaseUrl, application_name: 'ddnn-live' });
    client.on('error', (e) => this.onError(e));
    client.on('notification', () => this.kick());
    await client.connect();
    await client.query('LISTEN ddnn_events');
    this.listener = client;
    this.poll = setInterval(() => this.kick(), this.pollMs);
  }

  /** Reads what is new now; overlapping wake-ups collapse into one more read. */
  kick(): void {
    if (this.stopped) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = this.drain()
      .catch((e: unknown) => this.onError(e))
      .finally(() => {
        this.reading = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async drain(): Promise<void> {
    for (;;) {
      const page = await this.store.readAll({ after: this.checkpoint ?? undefined, limit: 1000 });
      this.checkpoint = page.checkpoint;
      if (page.events.length) this.onEvents(page.events);
      if (page.events.length < 1000 || this.stopped) return;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.poll);
    await this.reading;
    await this.listener?.end().catch(() => undefined);
    this.listener = null;
  }
}
