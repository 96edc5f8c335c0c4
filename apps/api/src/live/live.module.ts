import { Module } from '@nestjs/common';
import { OrchestratorModule } from '../orchestrator/orchestrator.module';
import { LiveGateway } from './live.gateway';

/** The /live socket.io namespace: session progress and events for the dashboard. */
@Module({ imports: [OrchestratorModule], providers: [LiveGateway] })
export class LiveModule {}
