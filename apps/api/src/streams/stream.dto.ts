import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsIn, IsInt, IsISO8601, IsNumber, IsOptional, IsUUID, Max, Min, ValidateNested } from 'class-validator';
import { MAX_STREAM_RATE, MIN_RUN_RATE, SESSION_MODES, type CreateStreamRequest, type SessionMode, type StreamLabel } from '@ddnn/contracts';
import { CreateRunDto, DatasetName, DatasetSplit, SessionEventsQuery } from '../sessions/run-request.dto';
import { ListPageDto, RunViewDto } from '../sessions/run-response.dto';

export class StreamReplayDto {
  @DatasetName('Dataset under <DDNN_DATA_DIR>/datasets that devices without a live source replay', 'synthetic-multicam-seed1')
  dataset!: string;

  @DatasetSplit()
  split!: 'train' | 'test';
}

export class CreateStreamDto extends CreateRunDto implements CreateStreamRequest {
  @ApiProperty({ description: `Samples triggered per second (${MIN_RUN_RATE} to ${MAX_STREAM_RATE})`, example: 2 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(MIN_RUN_RATE)
  @Max(MAX_STREAM_RATE)
  rate!: number;

  @ApiPropertyOptional({ enum: SESSION_MODES, default: 'production' })
  @IsOptional()
  @IsIn(SESSION_MODES)
  mode?: SessionMode;

  @ApiPropertyOptional({ description: 'A simulation on this node whose devices the topology uses' })
  @IsOptional()
  @IsUUID()
  simulationId?: string;

  @ApiPropertyOptional({ type: StreamReplayDto, description: 'What devices without a live source (dataset-source agents, simulated devices) replay, sample i -> sample i mod n' })
  @IsOptional()
  @ValidateNested()
  @Type(() => StreamReplayDto)
  replay?: StreamReplayDto;
}

export class StreamLabelDto implements StreamLabel {
  @ApiProperty({ description: 'Index of a sample of the stream', example: 42 })
  @IsInt()
  @Min(0)
  @Max(2_147_483_647)
  sampleIndex!: number;

  @ApiProperty({ description: "Class index, or class name as in the model's classes", oneOf: [{ type: 'integer' }, { type: 'string' }], example: 3 })
  @IsDefined()
  label!: number | string;
}

/** OpenAPI shape of StreamView (libs/contracts); the controller returns the contract type itself. */
export class StreamViewDto extends RunViewDto {
  @ApiProperty({ enum: ['stream'] }) kind!: 'stream';
  @ApiProperty() rate!: number;
  @ApiProperty({ description: 'A capture farther than this from its trigger is a skipped (stale) capture' }) captureToleranceMs!: number;
  @ApiProperty({ nullable: true, type: StreamReplayDto }) replay!: StreamReplayDto | null;
}

export class StreamListDto extends ListPageDto {
  @ApiProperty({ type: [StreamViewDto] }) items!: StreamViewDto[];
}

export class LabelStreamResponseDto {
  @ApiProperty({ type: [Object], description: '{sampleIndex, label, status: labelled | unchanged | pending | unanswered} in request order (unanswered: the sample ended without an answer, SampleUnanswered, so its label is not logged)' })
  results!: Record<string, unknown>[];
  @ApiProperty({ nullable: true, type: Number, description: 'Accuracy on labelled decided samples after these labels' }) accuracy!: number | null;
  @ApiProperty() labelled!: number;
}

/** GET /api/streams/:id/events: a checkpoint page, optionally bounded by database time (ISO 8601 instants). */
export class StreamEventsQuery extends SessionEventsQuery {
  @ApiPropertyOptional({ description: 'Only events logged at or after this instant (ISO 8601)', example: '2026-12-05T17:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'from must be an ISO 8601 instant' })
  from?: string;

  @ApiPropertyOptional({ description: 'Only events logged before this instant (ISO 8601); after `from`', example: '2026-12-05T18:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'to must be an ISO 8601 instant' })
  to?: string;
}
