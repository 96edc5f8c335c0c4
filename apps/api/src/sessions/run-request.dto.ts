import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsInt, IsNumber, IsOptional, IsString, Matches, Max, Min, MinLength, ValidateIf, ValidateNested } from 'class-validator';
import { SESSION_STATUSES, type SessionStatus } from '@ddnn/contracts';
import { IsCheckpoint } from '../common/checkpoint.validator';
import { PageQueryDto } from '../common/page-query.dto';
import { RunName, RunNote, RunTags } from './run-fields';

/** Model, dataset and edge names: what may stand in a file name and a section name. */
export const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A dataset under <DDNN_DATA_DIR>/datasets a run reads (a session's samples, a stream's replay). */
export function DatasetName(description: string, example: string): PropertyDecorator {
  return applyDecorators(ApiProperty({ description, example }), IsString(), Matches(NAME));
}

/** Which split of that dataset. */
export function DatasetSplit(): PropertyDecorator {
  return applyDecorators(ApiProperty({ enum: ['train', 'test'] }), IsIn(['train', 'test']));
}

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

/** What creating a session and creating a stream ask alike: the model, where it runs, how it exits, the run fields. */
export abstract class CreateRunDto {
  @ApiProperty({ example: 'default' })
  @IsString()
  @Matches(NAME)
  modelId!: string;

  @ApiProperty({ type: TopologyDto })
  @ValidateNested()
  @Type(() => TopologyDto)
  topology!: TopologyDto;

  @ApiProperty({ type: PolicyDto })
  @ValidateNested()
  @Type(() => PolicyDto)
  policy!: PolicyDto;

  @ApiProperty({ description: 'Per-request device deadline in ms; a late device is a DeviceMissed', example: 2000 })
  @IsInt()
  @Min(1)
  @Max(600_000)
  deadlineMs!: number;

  @RunName()
  name?: string;

  @RunTags()
  tags?: string[];

  @RunNote()
  note?: string;
}

/** A page of sessions or of streams, optionally of one status. */
export class ListRunsQuery extends PageQueryDto {
  @ApiPropertyOptional({ enum: SESSION_STATUSES })
  @IsOptional()
  @IsIn(SESSION_STATUSES as SessionStatus[])
  status?: SessionStatus;
}

/** A page of a run's events after a checkpoint (sessions and streams alike). */
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
