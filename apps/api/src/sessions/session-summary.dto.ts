import { ApiExtraModels, ApiProperty, getSchemaPath } from '@nestjs/swagger';
import type {
  DeviceSessionStats,
  EntropyPolicySpec,
  ExitTierStats,
  LinkBytes,
  PayloadKind,
  SessionMode,
  SessionSummary,
  SessionSummaryStatus,
  StreamGapCause,
  StreamGapsSummary,
} from '@ddnn/contracts';
import { STREAM_GAP_CAUSES } from '@ddnn/contracts';

// OpenAPI shapes of SessionSummary (libs/contracts): documentation only, the controller returns the contract type.

export class ExitTierStatsDto implements ExitTierStats {
  @ApiProperty({ description: 'Samples answered at this tier (live path)' }) exited!: number;
  @ApiProperty({ description: 'Of those, samples whose label is known' }) labelled!: number;
  @ApiProperty({ description: 'Of those, correct predictions' }) correct!: number;
}

export class ExitsDto {
  @ApiProperty({ type: ExitTierStatsDto }) local!: ExitTierStatsDto;
  @ApiProperty({ type: ExitTierStatsDto }) edge!: ExitTierStatsDto;
  @ApiProperty({ type: ExitTierStatsDto }) cloud!: ExitTierStatsDto;
}

export class LinkBytesDto implements LinkBytes {
  @ApiProperty({ description: 'Node id: device id, edge name, `local` or `cloud`' }) from!: string;
  @ApiProperty() to!: string;
  @ApiProperty({ enum: ['scores', 'features', 'raw'] }) kind!: PayloadKind;
  @ApiProperty() messages!: number;
  @ApiProperty() bytes!: number;
}

export class SessionBytesDto {
  @ApiProperty({ description: 'Counted (non-shadow) bytes' }) total!: number;
  @ApiProperty({ description: 'Shadow bytes (research mode), not counted' }) shadowTotal!: number;
  @ApiProperty({ nullable: true, type: Number, description: 'total / samplesDecided' }) perSample!: number | null;
  @ApiProperty({ type: [LinkBytesDto], description: 'Counted bytes by link and payload kind' }) links!: LinkBytesDto[];
}

class MissedByReasonDto {
  @ApiProperty() timeout!: number;
  @ApiProperty() disconnected!: number;
  @ApiProperty() error!: number;
  @ApiProperty({ description: 'Malformed or implausible replies (wrong size, non-finite values, absurd latency)' }) invalid!: number;
  @ApiProperty({ description: 'Captures a live-source device skipped (busy with the previous frame, frame too old, source failing)' }) skipped!: number;
}

class MissedTriggersDto {
  @ApiProperty({ description: 'Nothing ran the stream (its node died or restarted, the database was down) until a node resumed it' }) outage!: number;
  @ApiProperty({ description: 'Samples in flight filled the window: devices, the log or the engine were slower than the rate' }) backlog!: number;
  @ApiProperty({ description: 'The event loop stalled past the catch-up limit' }) stall!: number;
}

class StreamGapDto {
  @ApiProperty({ enum: STREAM_GAP_CAUSES }) cause!: StreamGapCause;
  @ApiProperty({ description: 'Epoch ms (the server clock)' }) from!: number;
  @ApiProperty({ description: 'Epoch ms (the server clock)' }) to!: number;
  @ApiProperty({ description: 'Triggers the rate asked for in [from, to) that never fired' }) missedTriggers!: number;
  @ApiProperty({ description: 'The index of the first sample triggered after the gap' }) nextSample!: number;
}

export class StreamGapsDto implements StreamGapsSummary {
  @ApiProperty({ type: MissedTriggersDto, description: 'Triggers that never fired, by cause' }) missedTriggers!: MissedTriggersDto;
  @ApiProperty({ description: 'Outages folded' }) outages!: number;
  @ApiProperty({ description: 'Time the outages lasted, ms' }) outageMs!: number;
  @ApiProperty({ type: [StreamGapDto], description: 'The latest gaps, oldest first (at most 20)' }) recent!: StreamGapDto[];
}

export class DeviceSessionStatsDto implements DeviceSessionStats {
  @ApiProperty({ nullable: true, type: Number }) view!: number | null;
  @ApiProperty({ description: 'Device sections answered in time' }) answered!: number;
  @ApiProperty({ description: 'Samples the device missed (DeviceMissed)' }) missed!: number;
  @ApiProperty({ type: MissedByReasonDto }) missedByReason!: MissedByReasonDto;
  @ApiProperty({ nullable: true, type: Number }) meanLatencyMs!: number | null;
  @ApiProperty() latencyMsTotal!: number;
}

@ApiExtraModels(DeviceSessionStatsDto)
export class SessionSummaryDto implements SessionSummary {
  @ApiProperty() sessionId!: string;
  @ApiProperty({ enum: ['running', 'completed', 'aborted'], description: 'As the events tell it' }) status!: SessionSummaryStatus;
  @ApiProperty({ nullable: true, type: String }) modelId!: string | null;
  @ApiProperty({ nullable: true, type: String }) dataset!: string | null;
  @ApiProperty({ nullable: true, enum: ['train', 'test'] }) split!: 'train' | 'test' | null;
  @ApiProperty({ nullable: true, enum: ['production', 'research'] }) mode!: SessionMode | null;
  @ApiProperty({ nullable: true, type: Object, description: 'The session policy, as in the request' }) policy!: EntropyPolicySpec | null;
  @ApiProperty({ type: [String] }) classes!: string[];
  @ApiProperty({ description: 'Samples the session planned' }) sampleCount!: number;
  @ApiProperty() samplesStarted!: number;
  @ApiProperty({ description: 'Samples with a live exit decision' }) samplesDecided!: number;
  @ApiProperty({ required: false, description: 'Samples that ended without an answer (SampleUnanswered): in no accuracy; absent in summaries stored before it existed' })
  unanswered?: number;
  @ApiProperty({ description: 'Decided samples whose label is known' }) labelled!: number;
  @ApiProperty() correct!: number;
  @ApiProperty({ nullable: true, type: Number, description: 'correct / labelled' }) accuracy!: number | null;
  @ApiProperty({ type: ExitsDto }) exits!: ExitsDto;
  @ApiProperty({ type: SessionBytesDto }) bytes!: SessionBytesDto;
  @ApiProperty({ type: 'object', additionalProperties: { $ref: getSchemaPath(DeviceSessionStatsDto) }, description: 'By device id' })
  devices!: Record<string, DeviceSessionStatsDto>;
  @ApiProperty({ description: 'DeviceMissed events over all devices' }) missed!: number;
  @ApiProperty({ type: [String], description: 'Devices the session started or resumed without (SessionDevicesAbsent)' }) ranWithout!: string[];
  @ApiProperty({ type: StreamGapsDto, required: false, description: 'Streams: triggers that never fired (StreamGap); absent until the first gap' }) gaps?: StreamGapsDto;
  @ApiProperty({ nullable: true, type: String }) startedAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) endedAt!: string | null;
  @ApiProperty({ nullable: true, type: Number }) durationMs!: number | null;
  @ApiProperty({ nullable: true, type: String }) abortReason!: string | null;
  @ApiProperty({ description: 'Events folded in' }) events!: number;
  @ApiProperty({ nullable: true, type: String }) lastEventAt!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Checkpoint of the last event folded in' }) checkpoint!: string | null;
}
