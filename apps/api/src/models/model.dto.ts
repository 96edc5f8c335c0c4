import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsOptional, IsString, IsUUID, Length, Matches, ValidateNested } from 'class-validator';
import type { ModelSectionInfo, ModelView, RegisterModelRequest } from '@ddnn/contracts';

/** Optional id and name of a model being registered or uploaded. */
export class UploadModelDto {
  @ApiPropertyOptional({ example: 'paper-6cam' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9][\w.-]{0,99}$/, { message: 'id may contain letters, digits, _ . - only' })
  id?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 200)
  name?: string;
}

export class RegisterModelDto extends UploadModelDto implements RegisterModelRequest {
  @ApiProperty({ example: 'models/default', description: 'Server-side checkpoint folder under a models root (DDNN_MODELS_ROOTS; default <data>/models and the repository models/).' })
  @IsString()
  @Length(1, 1000)
  path!: string;
}

class SectionDto implements ModelSectionInfo {
  @ApiProperty() name!: string;
  @ApiProperty() file!: string;
  @ApiProperty() bytes!: number;
}

export class ModelDto implements ModelView {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() version!: string;
  @ApiProperty({ description: 'Where the checkpoint lives, never absolute: models/<name>, <data>/models/<id> or <server>/<name>.' }) path!: string;
  @ApiProperty({ type: [SectionDto] }) sections!: SectionDto[];
  @ApiProperty() createdAt!: string;
}

export class DeployTargetDto {
  @ApiProperty()
  @IsUUID()
  deviceId!: string;

  @ApiPropertyOptional({ description: 'Default: device-<the device view>.', example: 'device-3' })
  @IsOptional()
  @Matches(/^(device-\d+|edge-[\w.-]+)$/, { message: 'section must be device-<view> or edge-<name>' })
  section?: string;
}

export class DeployModelDto {
  @ApiPropertyOptional({ type: [DeployTargetDto], description: 'Default: every connected end device.' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(256)
  @ValidateNested({ each: true })
  @Type(() => DeployTargetDto)
  devices?: DeployTargetDto[];
}

export class DeployOutcomeDto {
  @ApiProperty() deviceId!: string;
  @ApiProperty({ type: String, nullable: true }) section!: string | null;
  @ApiProperty() ok!: boolean;
  @ApiPropertyOptional() error?: string;
}

