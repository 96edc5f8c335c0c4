import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { SessionStore } from '../orchestrator/session-store';
import { SimulationsService } from '../simulations/simulations.service';

const POLL_MS = 1000;

/**
 * Ends the simulations made for one session when that session ends (completed, stopped or failed on any node):
 * their devices disconnect and, unless the simulation was asked to persist, are deleted, so form sessions do
 * not pile up simulated devices.
 */
@Injectable()
export class SessionSimulations implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SessionSimulations.name);
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly store: SessionStore,
    private readonly simulations: SimulationsService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), POLL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Ends every bound simulation whose session is over; returns how many. */
  async sweep(): Promise<number> {
    if (this.busy) return 0;
    this.busy = true;
    let ended = 0;
    try {
      for (const { id, sessionId } of this.simulations.boundToSessions()) {
        // Bound to a session or a stream: either kind's row.
        const session = await this.store.record(sessionId);
        if (session && !SessionStore.isFinal(session.status)) continue;
        await this.simulations.end(id);
        ended++;
      }
    } catch (e) {
      this.logger.warn(`ending the simulations of finished sessions: ${(e as Error).message}`);
    } finally {
      this.busy = false;
    }
    return ended;
  }
}
