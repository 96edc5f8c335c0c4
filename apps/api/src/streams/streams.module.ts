import { Module } from '@nestjs/common';
import { OrchestratorModule } from '../orchestrator/orchestrator.module';
import { SessionsModule } from '../sessions/sessions.module';
import { StreamsController } from './streams.controller';
import { StreamsService } from './streams.service';

/** REST for production streams (/api/streams): runs of the session engine with no dataset and no end. */
@Module({
  imports: [OrchestratorModule, SessionsModule],
  controllers: [StreamsController],
  providers: [StreamsService],
})
export class StreamsModule {}
