import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsOptional, IsString, IsUUID, Length, Matches, ValidateNested } from 'class-validator';
import type { ModelSectionInfo, ModelTestMetrics, ModelTrainingFacts, ModelView, RegisterModelRequest } from '@ddnn/contracts';

/** Optional id and name of a model being registered or uploaded. */
export class UploadModelDto {
  @ApiPropertyOptional({ example: 'paper-6cam' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9][\w.-]{0,99}$/, { message: 'id must be 1 to 100 letters, digits, _ . or -, starting with a letter or digit' })
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

class ValidationFactsDto {
  @ApiProperty({ description: 'Samples held out of the training split' }) samples!: number;
  @ApiProperty({ description: 'Epoch whose weights were kept' }) bestEpoch!: number;
  @ApiProperty({ description: 'Validation score of that epoch (overall accuracy at T)' }) score!: number;
  @ApiProperty() stoppedEarly!: boolean;
}

class ExitAccuracyDto {
  @ApiProperty({ example: 'cloud' }) exit!: string;
  @ApiProperty() accuracy!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Samples the exit saw (0: a device that captured none; null in older checkpoints)' }) samples!: number | null;
}

class TrainingFactsDto implements ModelTrainingFacts {
  @ApiProperty({ type: String, nullable: true }) dataset!: string | null;
  @ApiProperty({ type: Number, nullable: true }) trainSamples!: number | null;
  @ApiProperty({ type: Number, nullable: true }) epochs!: number | null;
  @ApiProperty({ type: Number, nullable: true }) batchSize!: number | null;
  @ApiProperty({ type: Number, nullable: true }) learningRate!: number | null;
  @ApiProperty({ type: ValidationFactsDto, nullable: true }) validation!: ValidationFactsDto | null;
  @ApiProperty({ type: Number, nullable: true }) secondsTotal!: number | null;
  @ApiProperty({ type: String, nullable: true, example: 'wasm' }) backend!: string | null;
  @ApiProperty({ type: String, nullable: true }) finishedAt!: string | null;
  @ApiProperty({ type: [ExitAccuracyDto], description: 'Training accuracy per exit at the end' }) exits!: ExitAccuracyDto[];
}

class TestMetricsDto implements ModelTestMetrics {
  @ApiProperty() samples!: number;
  @ApiProperty({ description: 'Accuracy of the exit that answered' }) overall!: number;
  @ApiProperty({ description: 'Accuracy had every sample exited locally' }) local!: number;
  @ApiProperty({ description: 'Accuracy had every sample gone to the cloud' }) cloud!: number;
  @ApiProperty() localExitRate!: number;
  @ApiProperty({ description: 'Bytes per sample the DDNN sends at T' }) bytesPerSample!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Bytes per sample of offloading every camera image at its native size' }) rawBytesPerSample!: number | null;
}

export class ModelDto implements ModelView {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() version!: string;
  @ApiProperty({ description: 'Where the checkpoint lives, never absolute: models/<name>, <data>/models/<id> or <server>/<name>.' }) path!: string;
  @ApiProperty({ type: [SectionDto] }) sections!: SectionDto[];
  @ApiProperty() createdAt!: string;
  @ApiProperty({ type: Number, nullable: true, description: 'Exit threshold T the checkpoint was trained to use.' }) threshold!: number | null;
  @ApiProperty({ type: TrainingFactsDto, nullable: true, description: 'How it was trained, as its manifest records it.' }) training!: TrainingFactsDto | null;
  @ApiProperty({ type: TestMetricsDto, nullable: true, description: 'Accuracy and bytes on the test split at T, as ddnn train measured them.' }) testMetrics!: TestMetricsDto | null;
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

