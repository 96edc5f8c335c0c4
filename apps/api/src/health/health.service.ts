import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { HealthResponse } from '@ddnn/contracts';
import { platformVersion } from '../common/repo-root';
import { DATABASE_RUNTIME, type DatabaseRuntime } from '../database/database.tokens';

@Injectable()
export class HealthService {
  private readonly version = platformVersion();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(DATABASE_RUNTIME) private readonly db: DatabaseRuntime,
  ) {}

  async check(): Promise<HealthResponse> {
    const started = performance.now();
    let up = true;
    let error: string | undefined;
    try {
      await this.dataSource.query('SELECT 1');
    } catch (e) {
      up = false;
      error = e instanceof Error ? e.message : String(e);
    }
    return {
      status: up ? 'ok' : 'degraded',
      version: this.version,
      uptimeSeconds: Math.round(process.uptime()),
      database: {
        status: up ? 'up' : 'down',
        embedded: this.db.embedded,
        latencyMs: Math.round((performance.now() - started) * 10) / 10,
        ...(error ? { error } : {}),
      },
    };
  }
}
