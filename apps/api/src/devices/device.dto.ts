import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsObject, IsOptional, IsString, Length, Matches, Max, Min, ValidateIf } from 'class-validator';
import type {
  AdminState,
  DeviceConnectivityView,
  DeviceListQuery,
  DeviceRole,
  DeviceLogView,
  DeviceView,
  ProvisionDeviceRequest,
  ProvisionDeviceResponse,
  UpdateDeviceRequest,
} from '@ddnn/contracts';
import { PageQueryDto } from '../common/page-query.dto';

const ROLES: DeviceRole[] = ['end-device', 'edge'];
const ADMIN_STATES: AdminState[] = ['locked', 'unlocked'];
const toBool = ({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value);

export class ProvisionDeviceDto implements ProvisionDeviceRequest {
  @ApiProperty({ example: 'cam-3' })
  @IsString()
  @Length(1, 100)
  @Matches(/^[\w.-]+$/, { message: 'name may contain letters, digits, _ . - only' })
  name!: string;

  @ApiProperty({ description: "The device profile's provisioning key." })
  @IsString()
  @Length(1, 200)
  profileKey!: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role!: DeviceRole;

  @ApiPropertyOptional({ example: 3, description: 'Camera view served; required for end devices.' })
  @ValidateIf((o: ProvisionDeviceDto) => o.role === 'end-device' || o.view !== undefined)
  @IsInt()
  @Min(0)
  @Max(255)
  view?: number;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: { binary: true, cpu: 'arm64' } })
  @IsOptional()
  @IsObject()
  capabilities?: Record<string, unknown>;
}

export class ProvisionedDto implements ProvisionDeviceResponse {
  @ApiProperty() deviceId!: string;
  @ApiProperty({ description: 'Shown once: only its hash is stored.' }) token!: string;
}

export class UpdateDeviceDto implements UpdateDeviceRequest {
  @ApiPropertyOptional({ enum: ADMIN_STATES })
  @IsOptional()
  @IsIn(ADMIN_STATES)
  adminState?: AdminState;

  @ApiPropertyOptional({ enum: ROLES })
  @IsOptional()
  @IsIn(ROLES)
  role?: DeviceRole;

  @ApiPropertyOptional({ type: Number, nullable: true })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsInt()
  @Min(0)
  @Max(255)
  view?: number | null;

  @ApiPropertyOptional({ description: 'Display name.' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  name?: string;

  @ApiPropertyOptional({ type: [String], description: 'Tags to group devices (replaces the list).' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @Matches(/^[\w.:-]{1,40}$/, { each: true, message: 'each tag is 1-40 letters, digits or . _ : -' })
  tags?: string[];
}

export class DeviceListQueryDto extends PageQueryDto implements DeviceListQuery {

  @ApiPropertyOptional({ enum: ROLES })
  @IsOptional()
  @IsIn(ROLES)
  role?: DeviceRole;

  @ApiPropertyOptional({ enum: ADMIN_STATES })
  @IsOptional()
  @IsIn(ADMIN_STATES)
  adminState?: AdminState;

  @ApiPropertyOptional()
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  active?: boolean;

  @ApiPropertyOptional()
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  simulated?: boolean;

  @ApiPropertyOptional({ description: 'Only devices carrying this tag.' })
  @IsOptional()
  @IsString()
  @Length(1, 40)
  tag?: string;

  @ApiPropertyOptional({ description: 'Substring of the name, case-insensitive.' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  name?: string;
}

class ConnectivityDto implements DeviceConnectivityView {
  @ApiProperty() active!: boolean;
  @ApiProperty({ type: String, nullable: true }) node!: string | null;
  @ApiProperty({ type: String, nullable: true }) lastConnectAt!: string | null;
  @ApiProperty({ type: String, nullable: true }) lastDisconnectAt!: string | null;
  @ApiProperty({ type: String, nullable: true }) lastActivityAt!: string | null;
}

class DeviceLogDto implements DeviceLogView {
  @ApiProperty({ description: 'Live device sections it answered, across runs.' }) answered!: number;
  @ApiProperty({ description: 'Requests it had a capture for and did not answer (timeout, disconnected, error, invalid), across runs.' }) missed!: number;
  @ApiProperty({ description: 'Samples it captured nothing for (skipped captures): not counted as misses.' }) notCaptured!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'missed / (answered + missed), as the device_miss_rate metric; null before any request.' }) missRate!: number | null;
  @ApiProperty() connects!: number;
  @ApiProperty() disconnects!: number;
  @ApiProperty({ type: String, nullable: true }) lastDisconnectReason!: string | null;
}

class DeployedDto {
  @ApiProperty() modelId!: string;
  @ApiProperty() modelVersion!: string;
  @ApiProperty() section!: string;
}

export class DeviceDto implements DeviceView {
  @ApiProperty() id!: string;
  @ApiProperty() profileId!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ROLES }) role!: DeviceRole;
  @ApiProperty({ type: Number, nullable: true }) view!: number | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) capabilities!: Record<string, unknown>;
  @ApiProperty() simulated!: boolean;
  @ApiProperty({ enum: ADMIN_STATES }) adminState!: AdminState;
  @ApiProperty() hasToken!: boolean;
  @ApiProperty({ type: ConnectivityDto }) connectivity!: DeviceConnectivityView;
  @ApiProperty({ type: DeployedDto, nullable: true }) deployed!: DeployedDto | null;
  @ApiProperty({ type: [String] }) tags!: string[];
  @ApiProperty({ type: String, nullable: true, description: 'The last problem the agent reported (e.g. it cannot read its data); null while it works.' })
  problem!: string | null;
  @ApiProperty({
    type: DeviceLogDto,
    nullable: true,
    description: 'From the device_statuses projection (lags the event log by about a second at most); null until it has seen the device.',
  })
  log!: DeviceLogView | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class DeviceListDto {
  @ApiProperty({ type: [DeviceDto] }) items!: DeviceDto[];
  @ApiProperty() total!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
}

export class ProbeDeviceDto {
  @ApiProperty({ example: 'synthetic-multicam-seed1', description: 'Dataset name; the device reads its own view of the sample.' })
  @IsString()
  @Matches(/^[\w.-]{1,200}$/, { message: 'dataset must be a folder name' })
  dataset!: string;

  @ApiProperty({ example: 's00000' })
  @IsString()
  @Length(1, 200)
  sampleId!: string;

  @ApiPropertyOptional({ default: 5000 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(120_000)
  timeoutMs?: number;
}

export class ProbeResultDto {
  @ApiProperty() ok!: boolean;
  @ApiPropertyOptional() error?: string;
  @ApiPropertyOptional({ type: [Number] }) scores?: number[];
  @ApiPropertyOptional() featuresBytes?: number;
  @ApiPropertyOptional() deviceLatencyMs?: number;
  @ApiProperty() roundTripMs!: number;
}

export class DeviceHistoryDto {
  @ApiProperty({ example: 'DeviceConnected', description: 'DeviceRegistered, DeviceConnected, DeviceDisconnected, DeviceWentInactive, DeviceBecameActive or ModelDeployed' }) type!: string;
  @ApiProperty() at!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The event payload (see docs/events.md)' }) data!: Record<string, unknown>;
}
