import { Module } from '@nestjs/common';
import { StreamRetention } from './stream-retention';

/** The event log's partition upkeep and stream retention (libs/events does the SQL; this schedules it). */
@Module({ providers: [StreamRetention], exports: [StreamRetention] })
export class RetentionModule {}
