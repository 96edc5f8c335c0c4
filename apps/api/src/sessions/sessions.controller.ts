import { Body, Controller, Get, HttpCode, NotFoundException, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { RequireAccess } from '../auth/access.decorator';
import type { SessionEventsPage, SessionList, SessionView } from '@ddnn/contracts';
import {
  CreateSessionDto,
  CreateSessionResponseDto,
  ListSessionsQuery,
  SessionEventsPageDto,
  SessionEventsQuery,
  SessionListDto,
  SessionViewDto,
} from './session.dto';
import { SessionsService } from './sessions.service';

@ApiTags('sessions')
@RequireAccess('operator')
@Controller('sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Post()
  @ApiCreatedResponse({ type: CreateSessionResponseDto, description: 'The session is queued; a node picks it up at once.' })
  @ApiBadRequestResponse({ description: 'The request names an unknown model, dataset or device, or is malformed.' })
  async create(@Body() body: CreateSessionDto): Promise<{ id: string }> {
    const created = await this.sessions.create(body);
    if (!created) throw new Error('session was not recorded');
    return created;
  }

  @Get()
  @ApiOkResponse({ type: SessionListDto, description: 'Sessions, newest first.' })
  list(@Query() q: ListSessionsQuery): Promise<SessionList> {
    return this.sessions.list({ status: q.status, limit: q.limit ?? 50, offset: q.offset ?? 0 });
  }

  @Get(':id')
  @ApiOkResponse({ type: SessionViewDto, description: 'Status and the summary folded from the session events.' })
  @ApiNotFoundResponse()
  async get(@Param('id', new ParseUUIDPipe()) id: string): Promise<SessionView> {
    const view = await this.sessions.get(id);
    if (!view) throw new NotFoundException(`no session ${id}`);
    return view;
  }

  @Post(':id/stop')
  @HttpCode(200)
  @ApiOkResponse({ type: SessionViewDto, description: 'Stop requested; the owning node stops after the samples in flight.' })
  @ApiNotFoundResponse()
  async stop(@Param('id', new ParseUUIDPipe()) id: string): Promise<SessionView> {
    const view = await this.sessions.stop(id);
    if (!view) throw new NotFoundException(`no session ${id}`);
    return view;
  }

  @Get(':id/events')
  @ApiOkResponse({ type: SessionEventsPageDto, description: 'A page of the session events after a checkpoint, in log order.' })
  @ApiNotFoundResponse()
  async events(@Param('id', new ParseUUIDPipe()) id: string, @Query() q: SessionEventsQuery): Promise<SessionEventsPage> {
    const page = await this.sessions.events(id, q.after, q.limit ?? 500);
    if (!page) throw new NotFoundException(`no session ${id}`);
    return page;
  }
}
