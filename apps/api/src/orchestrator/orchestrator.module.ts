import { Module } from '@nestjs/common';
import { DatasetCatalog } from './dataset-catalog';
import { ModelCatalog } from './model-catalog';
import { ProjectionsRunner } from './projections-runner';
import { SessionEventLog } from './session-event-log';
import { SessionScheduler } from './session-scheduler';
import { SessionStore } from './session-store';
import { StreamEventLog } from './stream-event-log';

/** The session engine (DeviceTransport, ModelsService and ModelDeployer come from the global DevicePlatformModule): picks up sessions, owns them through advisory locks, runs their samples. */
@Module({
  providers: [SessionStore, SessionEventLog, StreamEventLog, ModelCatalog, DatasetCatalog, SessionScheduler, ProjectionsRunner],
  exports: [SessionStore, SessionEventLog, StreamEventLog, ModelCatalog, DatasetCatalog, SessionScheduler, ProjectionsRunner],
})
export class OrchestratorModule {}
