import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { SimulationView } from '@ddnn/contracts';
import { RequireAccess } from '../auth/access.decorator';
import { CreateSimulationDto, SimulationDto } from './simulation.dto';
import { SimulationsService } from './simulations.service';

@ApiTags('simulations')
@RequireAccess('operator')
@Controller('simulations')
export class SimulationsController {
  constructor(private readonly simulations: SimulationsService) {}

  @Post()
  @ApiOperation({ summary: 'Start simulated devices', description: 'In-process end devices (device i serves view i), with an optional link model (latency, bandwidth) and injected failures. Name the simulation in POST /api/sessions (`simulationId`) and it ends with that session; its devices are deleted then unless `persist` is true.' })
  @ApiCreatedResponse({ type: SimulationDto, description: 'In-process devices, connected and ready for a session.' })
  create(@Body() body: CreateSimulationDto): Promise<SimulationView> {
    return this.simulations.create(body);
  }

  @Get()
  @ApiOperation({ summary: 'List simulations', description: 'Simulations running on this API node.' })
  @ApiOkResponse({ type: [SimulationDto], description: 'Simulations running on this node.' })
  list(): SimulationView[] {
    return this.simulations.list();
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a simulation', description: 'Its devices, link model, failures and the session it is bound to.' })
  @ApiOkResponse({ type: SimulationDto })
  @ApiNotFoundResponse()
  get(@Param('id') id: string): SimulationView {
    return this.simulations.get(id);
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Stop a simulation', description: 'Its devices disconnect; their rows stay (delete them on /api/devices/{id}).' })
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Its devices disconnect.' })
  @ApiNotFoundResponse()
  async stop(@Param('id') id: string): Promise<void> {
    await this.simulations.stop(id);
  }
}
