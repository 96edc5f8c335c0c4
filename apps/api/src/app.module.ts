import { type DynamicModule, Module } from '@nestjs/common';
import { AnalysisModule } from './analysis/analysis.module';
import type { AppConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { DatabaseModule } from './database/database.module';
import { DatasetsModule } from './datasets/datasets.module';
import { DemoModule } from './demo/demo.module';
import { DevicePlatformModule } from './device-platform.module';
import { HealthModule } from './health/health.module';
import { LiveModule } from './live/live.module';
import { RetentionModule } from './retention/retention.module';
import { MonitoringModule } from './monitoring/monitoring.module';
import { SessionsModule } from './sessions/sessions.module';
import { StreamsModule } from './streams/streams.module';

@Module({})
export class AppModule {
  /** The whole platform for one validated configuration. */
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule,
        RetentionModule,
        HealthModule,
        DevicePlatformModule,
        SessionsModule,
        StreamsModule,
        DemoModule,
        DatasetsModule,
        AnalysisModule,
        LiveModule,
        MonitoringModule,
        DashboardModule.register(config.DDNN_DASHBOARD_DIR),
      ],
    };
  }
}
