import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsDateString,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { PageQueryDto } from '../../common/page-query.dto';
import {
  ALERT_COMPARATORS,
  ALERT_LIST_STATES,
  ALERT_SCOPE_KINDS,
  ALERT_SEVERITIES,
  type AcknowledgeAlertRequest,
  type AlertComparator,
  type AlertListState,
  type AlertMetric,
  type AlertScope,
  type AlertSeverity,
  type AlertThreshold,
  type CreateAlertRuleRequest,
  type CreateWebhookRequest,
  METRIC_NAMES,
  type SilenceAlertRequest,
} from '@ddnn/contracts';

const ALERT_METRICS: readonly AlertMetric[] = ['device_inactive', ...METRIC_NAMES];
const DAY_MS = 86_400_000;

export class AlertThresholdDto implements AlertThreshold {
  @ApiProperty({ enum: ALERT_COMPARATORS })
  @IsIn(ALERT_COMPARATORS)
  comparator!: AlertComparator;

  @ApiProperty({ example: 0.8 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-1e12)
  @Max(1e12)
  threshold!: number;
}

export class AlertScopeDto {
  @ApiProperty({ enum: ALERT_SCOPE_KINDS })
  @IsIn(ALERT_SCOPE_KINDS)
  kind!: AlertScope['kind'];

  @ApiPropertyOptional({ description: 'The run (session or stream) of a `run` scope.' })
  @IsOptional()
  @IsUUID()
  runId?: string;

  @ApiPropertyOptional({ description: 'The device of a `device` scope.' })
  @IsOptional()
  @IsUUID()
  deviceId?: string;
}

export class CreateAlertRuleDto implements Omit<CreateAlertRuleRequest, 'scope'> {
  @ApiProperty({ example: 'Camera 3 dark' })
  @IsString()
  @Length(1, 120)
  name!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(0, 1000)
  description?: string;

  @ApiProperty({ enum: ALERT_METRICS, description: 'A metric of GET /api/metrics, or device_inactive.' })
  @IsIn(ALERT_METRICS)
  metric!: AlertMetric;

  @ApiProperty({ type: AlertScopeDto })
  @ValidateNested()
  @Type(() => AlertScopeDto)
  scope!: AlertScopeDto;

  @ApiProperty({ type: AlertThresholdDto, description: 'The alert is pending while this holds.' })
  @ValidateNested()
  @Type(() => AlertThresholdDto)
  condition!: AlertThresholdDto;

  @ApiProperty({ example: 60000, description: 'How long the condition must hold before the alert fires (ms).' })
  @IsInt()
  @Min(0)
  @Max(7 * DAY_MS)
  forMs!: number;

  @ApiPropertyOptional({ type: AlertThresholdDto, description: 'A firing alert resolves when this holds; default: the negation of the condition.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => AlertThresholdDto)
  clear?: AlertThresholdDto;

  @ApiPropertyOptional({ example: 300000, description: 'Window the metric is read over (ms), default 5 minutes.' })
  @IsOptional()
  @IsInt()
  @Min(60_000)
  @Max(30 * DAY_MS)
  windowMs?: number;

  @ApiProperty({ enum: ALERT_SEVERITIES })
  @IsIn(ALERT_SEVERITIES)
  severity!: AlertSeverity;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class AlertListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ALERT_LIST_STATES, description: 'open = pending or firing.' })
  @IsOptional()
  @IsIn(ALERT_LIST_STATES)
  state?: AlertListState;

  @ApiPropertyOptional()
  @IsOptional()
  @IsUUID()
  ruleId?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsUUID()
  deviceId?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsUUID()
  runId?: string;
}

export class AcknowledgeAlertDto implements AcknowledgeAlertRequest {
  @ApiPropertyOptional({ example: 'camera lens cleaned' })
  @IsOptional()
  @IsString()
  @Length(0, 500)
  note?: string;
}

export class SilenceAlertDto implements SilenceAlertRequest {
  @ApiProperty({ example: '2026-12-06T08:00:00Z', description: 'Mute notifications until then (at most 30 days ahead; a past time lifts the silence).' })
  @IsDateString({ strict: true })
  until!: string;
}

export class CreateWebhookDto implements CreateWebhookRequest {
  @ApiProperty({ example: 'on-call' })
  @IsString()
  @Length(1, 120)
  name!: string;

  @ApiProperty({ example: 'https://hooks.example.com/ddnn', description: 'http(s) URL without user or password.' })
  @IsString()
  @Length(1, 2000)
  url!: string;

  @ApiPropertyOptional({ enum: ALERT_SEVERITIES, default: 'warning', description: 'Least severe alert sent (warning: all).' })
  @IsOptional()
  @IsIn(ALERT_SEVERITIES)
  minSeverity?: AlertSeverity;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class UpdateWebhookDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 120)
  name?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 2000)
  url?: string;

  @ApiPropertyOptional({ enum: ALERT_SEVERITIES })
  @IsOptional()
  @IsIn(ALERT_SEVERITIES)
  minSeverity?: AlertSeverity;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}
