import { Module } from '@nestjs/common';
import { OrchestratorModule } from '../orchestrator/orchestrator.module';
import { DatasetsController } from './datasets.controller';
import { DatasetsService } from './datasets.service';

@Module({ imports: [OrchestratorModule], controllers: [DatasetsController], providers: [DatasetsService] })
export class DatasetsModule {}
