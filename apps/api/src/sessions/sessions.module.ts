import { Module } from '@nestjs/common';
import { OrchestratorModule } from '../orchestrator/orchestrator.module';
import { DemoSession } from './demo-session';
import { SessionRunsRepository } from './session-runs.repository';
import { SessionSimulations } from './session-simulations';
import { SessionsController } from './sessions.controller';
import { SessionsService } from './sessions.service';

/** REST for sessions (/api/sessions) and npm start's demo session. */
@Module({
  imports: [OrchestratorModule],
  controllers: [SessionsController],
  providers: [SessionsService, DemoSession, SessionRunsRepository, SessionSimulations],
  exports: [SessionsService, SessionRunsRepository],
})
export class SessionsModule {}
