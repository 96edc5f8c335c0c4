import { Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, ParseUUIDPipe, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBadRequestResponse, ApiConflictResponse, ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { RequireAccess } from '../auth/access.decorator';
import type { SessionEventsPage, SessionList, SessionView } from '@ddnn/contracts';
import { RunDeletionService } from './run-deletion.service';
import { SessionEventsQuery } from './run-request.dto';
import { CreateSessionResponseDto, SessionEventsPageDto } from './run-response.dto';
import { CreateSessionDto, ListSessionsQuery, SessionListDto, SessionViewDto, UpdateSessionDto } from './session.dto';
import { SessionsService } from './sessions.service';

@ApiTags('sessions')
@RequireAccess('operator')
@Controller('sessions')
export class SessionsController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly deletion: RunDeletionService,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Start a session',
    description:
      'Queues a run of a dataset split through the devices of `topology` with an entropy exit policy; a node picks it up at once. The configuration (device names, and with `simulationId` the link model and injected failures) is recorded and logged in SessionStarted.',
  })
  @ApiCreatedResponse({ type: CreateSessionResponseDto, description: 'The session is queued; a node picks it up at once.' })
  @ApiBadRequestResponse({ description: 'The request names an unknown model, dataset or device, or is malformed.' })
  async create(@Body() body: CreateSessionDto): Promise<{ id: string }> {
    const created = await this.sessions.create(body);
    if (!created) throw new Error('session was not recorded');
    return created;
  }

  @Get()
  @ApiOperation({ summary: 'List sessions', description: 'Runs, newest first, with name, tags and the live summary; filter by status, tag, model, dataset, policy and mode.' })
  @ApiOkResponse({ type: SessionListDto, description: 'Sessions, newest first.' })
  list(@Query() q: ListSessionsQuery): Promise<SessionList> {
    return this.sessions.list({ ...q, limit: q.limit ?? 50, offset: q.offset ?? 0 });
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a session', description: 'Status, configuration, run name/tags/note and the summary folded from its events.' })
  @ApiOkResponse({ type: SessionViewDto, description: 'Status and the summary folded from the session events.' })
  @ApiNotFoundResponse()
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<SessionView> {
    const view = await this.sessions.get(id);
    if (!view) throw new NotFoundException(`no session ${id}`);
    return view;
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Rename, tag or annotate a session', description: 'Sets the run name, tags (the list is replaced) or note; other fields are kept.' })
  @ApiOkResponse({ type: SessionViewDto })
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: 'The session is being deleted.' })
  update(@Param('id', new ParseUUIDPipe()) id: string, @Body() body: UpdateSessionDto): Promise<SessionView> {
    return this.sessions.update(id, body);
  }

  @Post(':id/stop')
  @ApiOperation({ summary: 'Stop a session', description: 'The node running it stops after the samples in flight; a queued session stops at once. Asynchronous: the answer is the session as it is now (a running one still says running); its status turns stopped once its node has stopped it, within DDNN_SESSION_POLL_MS.' })
  @HttpCode(200)
  @ApiOkResponse({ type: SessionViewDto, description: 'Stop requested; the owning node stops after the samples in flight.' })
  @ApiNotFoundResponse()
  async stop(@Param('id', new ParseUUIDPipe()) id: string): Promise<SessionView> {
    const view = await this.sessions.stop(id);
    if (!view) throw new NotFoundException(`no session ${id}`);
    return view;
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a session',
    description:
      'Deletes an ended session (completed, stopped or failed) with its whole log (session-<id>), its summary, its metric rollups and its name, tags and note; a RunDeleted event in the `runs` stream records it. Deleting it again succeeds. A long log takes a while (a weeks-long stream, minutes): when the deletion is not done within DDNN_RUN_DELETION_WAIT_MS (5 s) the answer is 202 and it goes on (any node finishes it should this one stop); the session shows `deletingSince` until it is gone (404).',
  })
  @ApiNoContentResponse({ description: 'Deleted (or deleted before).' })
  @ApiAcceptedResponse({ description: 'Being deleted: not done yet, it goes on (GET answers 404 once it is gone).' })
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: 'The session is queued or running: stop it first.' })
  async remove(@Param('id', new ParseUUIDPipe()) id: string, @Res({ passthrough: true }) res: Response): Promise<void> {
    if ((await this.deletion.delete('session', id)) === 'deleting') res.status(202);
  }

  @Get(':id/events')
  @ApiOperation({
    summary: 'Read session events',
    description: 'A page of the session event log after a checkpoint, in log order (SessionStarted, SampleStarted, DeviceMissed, SectionsEvaluated, ExitDecided, MessagesTransferred, ...; see docs/events.md).',
  })
  @ApiOkResponse({ type: SessionEventsPageDto, description: 'A page of the session events after a checkpoint, in log order.' })
  @ApiNotFoundResponse()
  async events(@Param('id', new ParseUUIDPipe()) id: string, @Query() q: SessionEventsQuery): Promise<SessionEventsPage> {
    const page = await this.sessions.events(id, q.after, q.limit ?? 500);
    if (!page) throw new NotFoundException(`no session ${id}`);
    return page;
  }
}
