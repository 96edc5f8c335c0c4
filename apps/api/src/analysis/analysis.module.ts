import { Module } from '@nestjs/common';
import { AnalysisController, SessionExportController } from './analysis.controller';
import { AnalysisDatabase } from './analysis-database';
import { AnalysisRepository } from './analysis.repository';
import { AnalysisService } from './analysis.service';
import { CsvExport } from './csv-export';

/** Replay-based policy analysis (/api/analysis) and the streamed CSV exports of sessions. */
@Module({
  controllers: [AnalysisController, SessionExportController],
  providers: [AnalysisDatabase, AnalysisRepository, AnalysisService, CsvExport],
})
export class AnalysisModule {}
