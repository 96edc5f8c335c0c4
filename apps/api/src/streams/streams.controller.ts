import { Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, ParseArrayPipe, ParseUUIDPipe, Post, Query, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { MAX_LABELS_PER_REQUEST, type LabelStreamResponse, type SessionEventsPage, type StreamList, type StreamView } from '@ddnn/contracts';
import type { Response } from 'express';
import { RequireAccess } from '../auth/access.decorator';
import { RunDeletionService } from '../sessions/run-deletion.service';
import { ListRunsQuery } from '../sessions/run-request.dto';
import { CreateSessionResponseDto, SessionEventsPageDto } from '../sessions/run-response.dto';
import { CreateStreamDto, LabelStreamResponseDto, StreamEventsQuery, StreamLabelDto, StreamListDto, StreamViewDto } from './stream.dto';
import { eventWindow, MAX_EVENT_WINDOW_DAYS, StreamsService } from './streams.service';

@ApiTags('streams')
@RequireAccess('operator')
@Controller('streams')
export class StreamsController {
  constructor(
    private readonly streams: StreamsService,
    private readonly deletion: RunDeletionService,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Start a stream',
    description:
      'Queues a production run with no dataset and no end: every 1/rate s each device of `topology` captures from its own source and the sample goes through the hierarchy. It runs until stopped, and survives restarts and node death (another node takes it over).',
  })
  @ApiCreatedResponse({ type: CreateSessionResponseDto })
  @ApiBadRequestResponse({ description: 'Unknown model, device or replay dataset, or a malformed request.' })
  create(@Body() body: CreateStreamDto): Promise<{ id: string }> {
    return this.streams.create(body);
  }

  @Get()
  @ApiOperation({ summary: 'List streams', description: 'Streams, newest first, with their summaries (the stored projection, which may lag the log).' })
  @ApiOkResponse({ type: StreamListDto })
  list(@Query() q: ListRunsQuery): Promise<StreamList> {
    return this.streams.list({ status: q.status, limit: q.limit ?? 50, offset: q.offset ?? 0 });
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a stream', description: 'Status, configuration and the summary folded from its log to the head (accuracy on the labelled samples).' })
  @ApiOkResponse({ type: StreamViewDto })
  @ApiNotFoundResponse()
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<StreamView> {
    const view = await this.streams.get(id);
    if (!view) throw new NotFoundException(`no stream ${id}`);
    return view;
  }

  @Post(':id/stop')
  @HttpCode(200)
  @ApiOperation({ summary: 'Stop a stream', description: 'The node running it stops triggering and finishes the samples in flight; a queued stream stops at once. Asynchronous: the answer is the stream as it is now (a running one still says running); its status turns stopped once its node has stopped it, within DDNN_SESSION_POLL_MS.' })
  @ApiOkResponse({ type: StreamViewDto })
  @ApiNotFoundResponse()
  async stop(@Param('id', new ParseUUIDPipe()) id: string): Promise<StreamView> {
    const view = await this.streams.stop(id);
    if (!view) throw new NotFoundException(`no stream ${id}`);
    return view;
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a stream',
    description:
      'Deletes an ended stream (stopped or failed) with its whole log (stream-<id>, in every day partition), its summary, its metric rollups and its name, tags and note; a RunDeleted event in the `runs` stream records it. Deleting it again succeeds. A long log takes a while (a weeks-long stream, minutes): when the deletion is not done within DDNN_RUN_DELETION_WAIT_MS (5 s) the answer is 202 and it goes on (any node finishes it should this one stop); the stream shows `deletingSince` until it is gone (404).',
  })
  @ApiNoContentResponse({ description: 'Deleted (or deleted before).' })
  @ApiAcceptedResponse({ description: 'Being deleted: not done yet, it goes on (GET answers 404 once it is gone).' })
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: 'The stream is queued or running: stop it first.' })
  async remove(@Param('id', new ParseUUIDPipe()) id: string, @Res({ passthrough: true }) res: Response): Promise<void> {
    if ((await this.deletion.delete('stream', id)) === 'deleting') res.status(202);
  }

  @Get(':id/events')
  @ApiOperation({ summary: 'Read stream events', description: `A page of the stream log (stream-<id>) after a checkpoint, in log order; with from/to, only the events logged in that window (at most ${MAX_EVENT_WINDOW_DAYS} days).` })
  @ApiOkResponse({ type: SessionEventsPageDto })
  @ApiBadRequestResponse({ description: 'A malformed checkpoint or instant, or a window that is empty or too long.' })
  @ApiNotFoundResponse()
  async events(@Param('id', new ParseUUIDPipe()) id: string, @Query() q: StreamEventsQuery): Promise<SessionEventsPage> {
    const page = await this.streams.events(id, { after: q.after, limit: q.limit ?? 500, ...eventWindow(q.from, q.to) });
    if (!page) throw new NotFoundException(`no stream ${id}`);
    return page;
  }

  @Post(':id/labels')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Label samples of a stream',
    description: `A JSON array of 1 to ${MAX_LABELS_PER_REQUEST} {sampleIndex, label} (class index or name), logged as SampleLabelled events; accuracy on labelled samples updates as they arrive. A label for a sample not decided yet counts once it is. Posting the same label again changes nothing; a different label for a labelled sample is refused (409).`,
  })
  @ApiBody({ type: [StreamLabelDto] })
  @ApiOkResponse({ type: LabelStreamResponseDto })
  @ApiBadRequestResponse({ description: 'Not an array of labels, too many, an unknown class, or one sample given two labels.' })
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: 'A sample already has a different label, or the stream is being deleted.' })
  @ApiUnprocessableEntityResponse({
    description: 'A sample index the stream never decided and never will: it stopped, or the sample is far beyond its newest one, or undecided further behind it than any samples in flight (dropped by retention, or skipped).',
  })
  labels(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body(new ParseArrayPipe({ items: StreamLabelDto, whitelist: true, forbidNonWhitelisted: true })) body: StreamLabelDto[],
  ): Promise<LabelStreamResponse> {
    return this.streams.label(id, body);
  }
}
