import { Module } from '@nestjs/common';
import { AnalysisModule } from '../analysis/analysis.module';
import { ModelsModule } from '../models/models.module';
import { OrchestratorModule } from '../orchestrator/orchestrator.module';
import { DemoSession } from './demo-session';
import { RunDeletionRepository } from './run-deletion.repository';
import { RunDeletionService } from './run-deletion.service';
import { SessionRunsRepository } from './session-runs.repository';
import { SessionSimulations } from './session-simulations';
import { SessionsController } from './sessions.controller';
import { SessionsService } from './sessions.service';

/** REST for sessions (/api/sessions), npm start's demo session, and the deletion of ended runs (sessions and streams). */
@Module({
  imports: [OrchestratorModule, AnalysisModule, ModelsModule],
  controllers: [SessionsController],
  providers: [SessionsService, DemoSession, SessionRunsRepository, SessionSimulations, RunDeletionRepository, RunDeletionService],
  exports: [SessionsService, SessionRunsRepository, RunDeletionService],
})
export class SessionsModule {}
