import { Module } from '@nestjs/common';
import { OrchestratorModule } from '../orchestrator/orchestrator.module';
import { AnalysisController, SessionExportController } from './analysis.controller';
import { AnalysisRepository } from './analysis.repository';
import { AnalysisService } from './analysis.service';
import { CsvExport } from './csv-export';

/** Replay-based policy analysis (/api/analysis) and the streamed CSV exports of sessions. */
@Module({
  imports: [OrchestratorModule],
  controllers: [AnalysisController, SessionExportController],
  providers: [AnalysisRepository, AnalysisService, CsvExport],
  // A run's deletion (sessions/run-deletion.service.ts) drops its cached table.
  exports: [AnalysisRepository],
})
export class AnalysisModule {}
