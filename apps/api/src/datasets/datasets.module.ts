import { Module } from '@nestjs/common';
import { OrchestratorModule } from '../orchestrator/orchestrator.module';
import { DatasetsController } from './datasets.controller';
import { DatasetInsights } from './dataset-insights';
import { DatasetsService } from './datasets.service';

@Module({ imports: [OrchestratorModule], controllers: [DatasetsController], providers: [DatasetsService, DatasetInsights] })
export class DatasetsModule {}
