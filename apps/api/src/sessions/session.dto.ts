import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsPositive,
  IsString,
  IsUUID,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { SESSION_STATUSES, type CreateSessionRequest, type SessionListQuery, type SessionStatus, type UpdateSessionRequest } from '@ddnn/contracts';
import { IsCheckpoint } from '../common/checkpoint.validator';
import { PageQueryDto } from '../common/page-query.dto';
import { RUN_TAG, RUN_TAG_MESSAGE, RunName, RunNote, RunTags } from './run-fields';
import { SessionSummaryDto } from './session-summary.dto';

export const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** The policy filter: what the dashboard prints for a live entropy policy. */
export const POLICY = /^entropy T=(\d+(?:\.\d+)?)(?:\/(\d+(?:\.\d+)?))?$/;

export class TopologyDeviceDto {
  @ApiProperty({ description: 'A registered end device', example: 'b1f8c2e4-…' })
  @IsString()
  @MinLength(1)
  deviceId!: string;

  @ApiProperty({ description: 'Camera view the device serves', example: 0 })
  @IsInt()
  @Min(0)
  @Max(255)
  view!: number;

  @ApiPropertyOptional({ description: 'Edge node (name in `edges`) the device sends its features to; omitted = the cloud' })
  @IsOptional()
  @IsString()
  @Matches(NAME)
  edge?: string;
}

export class TopologyEdgeDto {
  @ApiProperty({ example: 'edge-a' })
  @IsString()
  @Matches(NAME)
  name!: string;

  @ApiProperty({ nullable: true, type: String, description: 'Device serving the edge; null = simulated in the server' })
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @MinLength(1)
  deviceId!: string | null;
}

export class TopologyDto {
  @ApiProperty({ type: [TopologyDeviceDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(64)
  @ValidateNested({ each: true })
  @Type(() => TopologyDeviceDto)
  devices!: TopologyDeviceDto[];

  @ApiPropertyOptional({ type: [TopologyEdgeDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(16)
  @ValidateNested({ each: true })
  @Type(() => TopologyEdgeDto)
  edges?: TopologyEdgeDto[];
}

export class ThresholdsDto {
  @ApiProperty({ description: 'Local exit threshold T: exit when normalized entropy < T', example: 0.8 })
  @IsNumber()
  @Min(0)
  @Max(1)
  local!: number;

  @ApiPropertyOptional({ description: 'Edge exit threshold (3-tier topologies)' })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
  edge?: number;
}

export class PolicyDto {
  @ApiProperty({ enum: ['entropy'] })
  @IsIn(['entropy'])
  kind!: 'entropy';

  @ApiProperty({ type: ThresholdsDto })
  @ValidateNested()
  @Type(() => ThresholdsDto)
  thresholds!: ThresholdsDto;
}

export class CreateSessionDto implements CreateSessionRequest {
  @ApiProperty({ example: 'default' })
  @IsString()
  @Matches(NAME)
  modelId!: string;

  @ApiProperty({ description: 'Dataset name under <DDNN_DATA_DIR>/datasets', example: 'synth' })
  @IsString()
  @Matches(NAME)
  dataset!: string;

  @ApiProperty({ enum: ['train', 'test'] })
  @IsIn(['train', 'test'])
  split!: 'train' | 'test';

  @ApiPropertyOptional({ description: 'Only the first N samples of the split' })
  @IsOptional()
  @IsInt()
  @Min(1)
  limit?: number;

  @ApiProperty({ type: TopologyDto })
  @ValidateNested()
  @Type(() => TopologyDto)
  topology!: TopologyDto;

  @ApiProperty({ type: PolicyDto })
  @ValidateNested()
  @Type(() => PolicyDto)
  policy!: PolicyDto;

  @ApiProperty({ enum: ['production', 'research'], description: 'research: every exit is evaluated for every sample (shadow work logged, not counted)' })
  @IsIn(['production', 'research'])
  mode!: 'production' | 'research';

  @ApiProperty({ description: 'Per-request device deadline in ms; a late device is a DeviceMissed', example: 2000 })
  @IsInt()
  @Min(1)
  @Max(600_000)
  deadlineMs!: number;

  @ApiPropertyOptional({ description: 'Samples started per second at most' })
  @IsOptional()
  @IsNumber()
  @IsPositive()
  rate?: number;

  @RunName()
  name?: string;

  @RunTags()
  tags?: string[];

  @RunNote()
  note?: string;

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

export class ListSessionsQuery extends PageQueryDto {
  @ApiPropertyOptional({ enum: SESSION_STATUSES })
  @IsOptional()
  @IsIn(SESSION_STATUSES as SessionStatus[])
  status?: SessionStatus;

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

  @ApiPropertyOptional({ enum: ['production', 'research'] })
  @IsOptional()
  @IsIn(['production', 'research'])
  mode?: 'production' | 'research';
}

export class SessionEventsQuery {
  @ApiPropertyOptional({ description: 'Checkpoint of the last event the client has (from a previous page or a live message); default: from the start', example: '0:0' })
  @IsOptional()
  @IsString()
  @IsCheckpoint({ message: "after must be a checkpoint '<transaction id>:<global position>', within Postgres xid8 and bigint" })
  after?: string;

  @ApiPropertyOptional({ default: 500, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export class CreateSessionResponseDto {
  @ApiProperty()
  id!: string;
}

/** What a session's view and a stream's view share (RunView in OpenAPI): identity, run fields, lifecycle, summary. */
export class RunViewDto {
  @ApiProperty() id!: string;
  @ApiProperty({ description: "Operator-given run name ('' when none)" }) name!: string;
  @ApiProperty({ type: [String] }) tags!: string[];
  @ApiProperty() note!: string;
  @ApiProperty({ enum: SESSION_STATUSES }) status!: SessionStatus;
  @ApiProperty() modelId!: string;
  @ApiProperty({ enum: ['production', 'research'] }) mode!: 'production' | 'research';
  @ApiProperty({ type: PolicyDto }) policy!: PolicyDto;
  @ApiProperty({ type: TopologyDto }) topology!: TopologyDto;
  @ApiProperty() deadlineMs!: number;
  @ApiProperty({ nullable: true, type: Object, description: 'Link model, injected failures, device names and simulated marks recorded at creation (as in the start event)' })
  configuration!: Record<string, unknown> | null;
  @ApiProperty() samplesDone!: number;
  @ApiProperty({ nullable: true, type: String, description: 'API node running it' }) owner!: string | null;
  @ApiProperty({ nullable: true, type: String }) error!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ nullable: true, type: String }) startedAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) finishedAt!: string | null;
  @ApiProperty({ nullable: true, type: Object, description: 'Time in model, transport and logging measured by the node that ran it' })
  stats!: Record<string, number> | null;
  @ApiProperty({
    nullable: true,
    type: SessionSummaryDto,
    description: "Folded from the run's events to the head of the log (the stored session_summaries projection may lag); a stream's accuracy is on its labelled samples",
  })
  summary!: SessionSummaryDto | null;
}

/** A page of a list: the total and the page asked for (items in the subclass). */
export class ListPageDto {
  @ApiProperty() total!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
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

export class SessionEventsPageDto {
  @ApiProperty({ type: [Object], description: 'Stored events (type, data, eventId, streamPosition, checkpoint, createdAt, ...) in log order' })
  events!: Record<string, unknown>[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as `after` to continue' }) checkpoint!: string | null;
  @ApiProperty() hasMore!: boolean;
}
