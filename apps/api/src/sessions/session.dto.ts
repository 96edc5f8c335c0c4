import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsNumber, IsOptional, IsString, IsUUID, Matches, Max, Min } from 'class-validator';
import { MAX_STREAM_RATE, MIN_RUN_RATE, SESSION_MODES, type CreateSessionRequest, type SessionListQuery, type SessionMode, type UpdateSessionRequest } from '@ddnn/contracts';
import { RUN_TAG, RUN_TAG_MESSAGE, RunName, RunNote, RunTags } from './run-fields';
import { CreateRunDto, DatasetName, DatasetSplit, ListRunsQuery, NAME } from './run-request.dto';
import { ListPageDto, RunViewDto } from './run-response.dto';

/** A session's sample limit: a sample count the sessions table stores as a 4-byte integer. */
const MAX_SESSION_LIMIT = 2_147_483_647;

/** The policy filter: what the dashboard prints for a live entropy policy. */
export const POLICY = /^entropy T=(\d+(?:\.\d+)?)(?:\/(\d+(?:\.\d+)?))?$/;

export class CreateSessionDto extends CreateRunDto implements CreateSessionRequest {
  @DatasetName('Dataset name under <DDNN_DATA_DIR>/datasets', 'synth')
  dataset!: string;

  @DatasetSplit()
  split!: 'train' | 'test';

  @ApiPropertyOptional({ description: 'Only the first N samples of the split' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_SESSION_LIMIT)
  limit?: number;

  @ApiProperty({ enum: SESSION_MODES, description: 'research: every exit is evaluated for every sample (shadow work logged, not counted)' })
  @IsIn(SESSION_MODES)
  mode!: SessionMode;

  @ApiPropertyOptional({ description: `Samples started per second at most (${MIN_RUN_RATE} to ${MAX_STREAM_RATE}; omitted: as fast as the window allows)` })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(MIN_RUN_RATE)
  @Max(MAX_STREAM_RATE)
  rate?: number;

  @ApiPropertyOptional({ description: 'A simulation on this node (POST /api/simulations) whose devices the topology uses: its link model and failures are recorded with the session, and it ends with the session.' })
  @IsOptional()
  @IsUUID()
  simulationId?: string;
}

export class UpdateSessionDto implements UpdateSessionRequest {
  @RunName()
  name?: string;

  @RunTags('Run tags (replaces the list)')
  tags?: string[];

  @RunNote()
  note?: string;
}

export class ListSessionsQuery extends ListRunsQuery {
  @ApiPropertyOptional({ description: 'Only runs with this tag' })
  @IsOptional()
  @IsString()
  @Matches(RUN_TAG, { message: RUN_TAG_MESSAGE })
  tag?: SessionListQuery['tag'];

  @ApiPropertyOptional({ description: 'Only runs of this model' })
  @IsOptional()
  @IsString()
  @Matches(NAME)
  modelId?: string;

  @ApiPropertyOptional({ description: 'Only runs on this dataset' })
  @IsOptional()
  @IsString()
  @Matches(NAME)
  dataset?: string;

  @ApiPropertyOptional({ description: 'Only runs with this live policy, as `entropy T=<local>` or `entropy T=<local>/<edge>`', example: 'entropy T=0.8' })
  @IsOptional()
  @IsString()
  @Matches(POLICY, { message: 'policy must read `entropy T=<local>` or `entropy T=<local>/<edge>`' })
  policy?: string;

  @ApiPropertyOptional({ enum: SESSION_MODES })
  @IsOptional()
  @IsIn(SESSION_MODES)
  mode?: SessionMode;
}

/** OpenAPI shape of SessionView (libs/contracts); the controller returns the contract type itself. */
export class SessionViewDto extends RunViewDto {
  @ApiProperty() dataset!: string;
  @ApiProperty({ enum: ['train', 'test'] }) split!: 'train' | 'test';
  @ApiProperty({ nullable: true, type: Number }) rate!: number | null;
  @ApiProperty({ nullable: true, type: Number }) limit!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Samples the session runs, once it started' }) sampleCount!: number | null;
  @ApiProperty() demo!: boolean;
}

export class SessionListDto extends ListPageDto {
  @ApiProperty({ type: [SessionViewDto] }) items!: SessionViewDto[];
}
