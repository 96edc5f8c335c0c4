import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
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
  @ApiCreatedResponse({ type: SimulationDto, description: 'In-process devices, connected and ready for a session.' })
  create(@Body() body: CreateSimulationDto): Promise<SimulationView> {
    return this.simulations.create(body);
  }

  @Get()
  @ApiOkResponse({ type: [SimulationDto], description: 'Simulations running on this node.' })
  list(): SimulationView[] {
    return this.simulations.list();
  }

  @Get(':id')
  @ApiOkResponse({ type: SimulationDto })
  @ApiNotFoundResponse()
  get(@Param('id') id: string): SimulationView {
    return this.simulations.get(id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Its devices disconnect.' })
  @ApiNotFoundResponse()
  async stop(@Param('id') id: string): Promise<void> {
    await this.simulations.stop(id);
  }
}
