import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Param, ParseIntPipe, Patch, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { SimulationView } from '@ddnn/contracts';
import { RequireAccess } from '../auth/access.decorator';
import { CreateSimulationDto, SimulationDto, UpdateCameraKnobsDto } from './simulation.dto';
import { SimulationsService } from './simulations.service';

@ApiTags('simulations')
@RequireAccess('operator')
@Controller('simulations')
export class SimulationsController {
  constructor(private readonly simulations: SimulationsService) {}

  @Post()
  @ApiOperation({
    summary: 'Start simulated devices',
    description:
      'In-process end devices (device i serves view i), with an optional link model (latency, bandwidth) and injected failures. Name the simulation in POST /api/sessions (`simulationId`) and it ends with that session: its devices are deleted then, unless `persist` is true (it runs on, free for the next session). A persisted simulation runs until deleted: after a restart (or on another node, when its node dies) it starts again with the same devices, link model and failures; one not persisted that no running run uses has its devices deleted then.',
  })
  @ApiCreatedResponse({ type: SimulationDto, description: 'In-process devices, connected and ready for a session.' })
  create(@Body() body: CreateSimulationDto): Promise<SimulationView> {
    return this.simulations.create(body, { record: true });
  }

  @Get()
  @ApiOperation({ summary: 'List simulations', description: 'Simulations running on this API node.' })
  @ApiOkResponse({ type: [SimulationDto], description: 'Simulations running on this node.' })
  list(): Promise<SimulationView[]> {
    return this.simulations.views();
  }

  @Get(':id')
  @ApiOperation({
    summary: 'Get a simulation',
    description: 'Its devices, link model, failures and the session it is bound to. A device deleted since (DELETE /api/devices/{id}) is stopped and no longer listed.',
  })
  @ApiOkResponse({ type: SimulationDto })
  @ApiNotFoundResponse()
  get(@Param('id') id: string): Promise<SimulationView> {
    return this.simulations.view(id);
  }

  @Patch(':id/cameras/:view')
  @ApiOperation({
    summary: 'Degrade or restore a scene camera',
    description: 'Sets a camera\'s knobs (each 0..1; omitted ones stay): `noise` adds sensor noise, `occlusion` hides that share of its view. Its next captures show it; 0, 0 restores it.',
  })
  @ApiOkResponse({ type: SimulationDto })
  @ApiBadRequestResponse({ description: 'A knob outside 0..1, or no knob given.' })
  @ApiNotFoundResponse({ description: 'No such simulation on this node, or no such camera in it.' })
  @ApiConflictResponse({ description: 'The simulation replays a dataset: it has no knobs.' })
  setCamera(@Param('id') id: string, @Param('view', ParseIntPipe) view: number, @Body() body: UpdateCameraKnobsDto): SimulationView {
    if (body.noise === undefined && body.occlusion === undefined) throw new BadRequestException('give noise or occlusion (each 0..1)');
    return this.simulations.setCameraKnobs(id, view, body);
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Stop a simulation', description: 'For good: it is not started again after a restart. Its devices disconnect; their rows stay (delete them on /api/devices/{id}).' })
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Its devices disconnect.' })
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: 'Another API node runs it (stop it there), or a queued or running session or stream uses its devices (stop that first).' })
  async stop(@Param('id') id: string): Promise<void> {
    await this.simulations.stop(id);
  }
}
