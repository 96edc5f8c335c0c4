import { Module } from '@nestjs/common';
import { OrchestratorModule } from '../orchestrator/orchestrator.module';
import { StreamsModule } from '../streams/streams.module';
import { DemoStream } from './demo-stream';

/** npm start's live demo stream (the demo session stays with the sessions). */
@Module({
  imports: [OrchestratorModule, StreamsModule],
  providers: [DemoStream],
})
export class DemoModule {}
