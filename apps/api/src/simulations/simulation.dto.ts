import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsNumber, IsOptional, Max, Min, ValidateNested } from 'class-validator';
import type {
  CameraKnobsView,
  CreateSimulationRequest,
  SimulatedFailure,
  SimulatedFailureKind,
  SimulatedLink,
  SimulationScene,
  SimulationSource,
  SimulationView,
  UpdateCameraKnobsRequest,
} from '@ddnn/contracts';

const KINDS: SimulatedFailureKind[] = ['crash', 'slow', 'flaky'];
const SOURCES: SimulationSource[] = ['dataset', 'scene'];

export class SimulationSceneDto implements SimulationScene {
  @ApiProperty({ example: 1, description: 'Seed of the moving scene: which objects cross it, when.' })
  @IsInt()
  @Min(0)
  @Max(2 ** 31 - 1)
  seed!: number;

  @ApiPropertyOptional({ example: 32, description: 'The scene repeats after this many passages (8 s each); unset: never. A repeating scene renders each frame once.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100_000)
  period?: number;
}

export class UpdateCameraKnobsDto implements UpdateCameraKnobsRequest {
  @ApiPropertyOptional({ example: 0.8, minimum: 0, maximum: 1, description: 'Extra sensor noise: 0 none, 1 the object is barely visible.' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  noise?: number;

  @ApiPropertyOptional({ example: 0.5, minimum: 0, maximum: 1, description: 'Share of the view hidden by something in front of the lens.' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  occlusion?: number;
}

class CameraKnobsDto implements CameraKnobsView {
  @ApiProperty() view!: number;
  @ApiProperty() noise!: number;
  @ApiProperty() occlusion!: number;
}

class SimulationSceneViewDto extends SimulationSceneDto {
  @ApiProperty({ type: [CameraKnobsDto] }) cameras!: CameraKnobsDto[];
}

export class SimulatedFailureDto implements SimulatedFailure {
  @ApiProperty({ example: 2, description: 'Index of the simulated device (0-based).' })
  @IsInt()
  @Min(0)
  device!: number;

  @ApiProperty({ example: 50, description: 'From this sample index on.' })
  @IsInt()
  @Min(0)
  atSample!: number;

  @ApiProperty({ enum: KINDS, description: 'crash: stops and disconnects; slow: answers after the deadline; flaky: misses every other sample.' })
  @IsIn(KINDS)
  kind!: SimulatedFailureKind;
}

export class SimulatedLinkDto implements SimulatedLink {
  @ApiProperty({ example: 5 })
  @IsNumber()
  @Min(0)
  @Max(60_000)
  latencyMs!: number;

  @ApiProperty({ example: 250 })
  @IsNumber()
  @Min(1)
  bandwidthKbps!: number;
}

export class CreateSimulationDto implements CreateSimulationRequest {
  @ApiProperty({ example: 6, description: 'End devices; device i serves camera view i.' })
  @IsInt()
  @Min(1)
  @Max(64)
  devices!: number;

  @ApiPropertyOptional({ enum: SOURCES, default: 'dataset', description: 'dataset: replay the session\'s dataset split; scene: capture the synthetic moving scene at each trigger (streams; at most 6 devices, one per camera).' })
  @IsOptional()
  @IsIn(SOURCES)
  source?: SimulationSource;

  @ApiPropertyOptional({ type: SimulationSceneDto, description: 'The moving scene (source scene only; default seed 1, never repeating).' })
  @IsOptional()
  @ValidateNested()
  @Type(() => SimulationSceneDto)
  scene?: SimulationSceneDto;

  @ApiPropertyOptional({ type: [SimulatedFailureDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(256)
  @ValidateNested({ each: true })
  @Type(() => SimulatedFailureDto)
  failures?: SimulatedFailureDto[];

  @ApiPropertyOptional({ type: SimulatedLinkDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => SimulatedLinkDto)
  link?: SimulatedLinkDto;

  @ApiPropertyOptional({ default: false, description: 'Run on after the session that names this simulation ends, and after restarts (the same devices), until deleted (default: it ends with that session, and its devices are deleted).' })
  @IsOptional()
  @IsBoolean()
  persist?: boolean;
}

class SimulatedDeviceDto {
  @ApiProperty() deviceId!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['end-device', 'edge'] }) role!: 'end-device' | 'edge';
  @ApiProperty({ type: Number, nullable: true }) view!: number | null;
  @ApiProperty() index!: number;
}

export class SimulationDto implements SimulationView {
  @ApiProperty() id!: string;
  @ApiProperty({ type: [SimulatedDeviceDto] }) devices!: SimulatedDeviceDto[];
  @ApiProperty({ type: [SimulatedFailureDto] }) failures!: SimulatedFailureDto[];
  @ApiProperty({ type: SimulatedLinkDto, nullable: true }) link!: SimulatedLinkDto | null;
  @ApiProperty({ enum: SOURCES }) source!: SimulationSource;
  @ApiProperty({ type: SimulationSceneViewDto, nullable: true, description: 'The scene and each camera\'s knobs (scene simulations).' }) scene!: SimulationSceneViewDto | null;
  @ApiProperty() persist!: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'The session whose end stops this simulation.' }) sessionId!: string | null;
  @ApiProperty() createdAt!: string;
}
