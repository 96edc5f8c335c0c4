import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { HealthResponse } from '@ddnn/contracts';
import { platformVersion } from '../common/repo-root';
import { DATABASE_RUNTIME, type DatabaseRuntime } from '../database/database.tokens';

@Injectable()
export class HealthService {
  private readonly logger = new Logger(HealthService.name);
  private readonly version = platformVersion();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(DATABASE_RUNTIME) private readonly db: DatabaseRuntime,
  ) {}

  /** Up or down and the version; `details` (the database's state) only when asked for by the operator. */
  async check(details: boolean): Promise<HealthResponse> {
    const started = performance.now();
    let up = true;
    try {
      await this.dataSource.query('SELECT 1');
    } catch (e) {
      up = false;
      // The driver's message names the database host and port: the log may hold it, a response may not.
      this.logger.warn(`health: the database does not answer: ${e instanceof Error ? e.message : String(e)}`);
    }
    const report: HealthResponse = { status: up ? 'up' : 'down', version: this.version, uptimeSeconds: Math.round(process.uptime()) };
    if (details) {
      report.details = {
        database: { status: up ? 'up' : 'down', embedded: this.db.embedded, latencyMs: Math.round((performance.now() - started) * 10) / 10 },
      };
    }
    return report;
  }
}
