import { ApiProperty } from '@nestjs/swagger';
import { SESSION_MODES, SESSION_STATUSES, type SessionMode, type SessionStatus } from '@ddnn/contracts';
import { PolicyDto, TopologyDto } from './run-request.dto';
import { SessionSummaryDto } from './session-summary.dto';

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
  @ApiProperty({ enum: SESSION_MODES }) mode!: SessionMode;
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
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'When its deletion was asked for, while that goes on (DELETE answered 202); its log and summary are partly gone meanwhile',
  })
  deletingSince!: string | null;
  @ApiProperty({
    nullable: true,
    type: Object,
    description:
      'Measured by the node that ended the run, over its own stint (samples < summary.samplesStarted after a resume or a take-over). ' +
      'durationMs and pipelineMs are wall-clock; serverModelMs, deviceModelMs, transportMs and loggingMs are sums over its samples, ' +
      'which run several at a time, so they exceed the wall clock: divide by samples for a per-sample mean',
  })
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

export class SessionEventsPageDto {
  @ApiProperty({ type: [Object], description: 'Stored events (type, data, eventId, streamPosition, checkpoint, createdAt, ...) in log order' })
  events!: Record<string, unknown>[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as `after` to continue' }) checkpoint!: string | null;
  @ApiProperty() hasMore!: boolean;
}
