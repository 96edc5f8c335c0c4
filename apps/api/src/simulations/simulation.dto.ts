import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsNumber, IsOptional, Max, Min, ValidateNested } from 'class-validator';
import type { CreateSimulationRequest, SimulatedFailure, SimulatedFailureKind, SimulatedLink, SimulationView } from '@ddnn/contracts';

const KINDS: SimulatedFailureKind[] = ['crash', 'slow', 'flaky'];

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

  @ApiPropertyOptional({ default: false, description: 'Keep the devices after the session that names this simulation ends (default: they are deleted with it).' })
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
  @ApiProperty() persist!: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'The session whose end stops this simulation.' }) sessionId!: string | null;
  @ApiProperty() createdAt!: string;
}
