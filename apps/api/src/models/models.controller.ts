import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { ModelView } from '@ddnn/contracts';
import { RequireAccess } from '../auth/access.decorator';
import { type DeployOutcome, ModelDeployer } from './model-deployer';
import { DeployModelDto, DeployOutcomeDto, ModelDto, RegisterModelDto } from './model.dto';
import { ModelsService } from './models.service';

@ApiTags('models')
@RequireAccess('operator')
@Controller('models')
export class ModelsController {
  constructor(
    private readonly models: ModelsService,
    private readonly deployer: ModelDeployer,
  ) {}

  @Post()
  @ApiCreatedResponse({ type: ModelDto })
  @ApiBadRequestResponse({ description: 'The path is not a checkpoint directory.' })
  register(@Body() body: RegisterModelDto): Promise<ModelView> {
    return this.models.register(body);
  }

  @Get()
  @ApiOkResponse({ type: [ModelDto] })
  list(): Promise<ModelView[]> {
    return this.models.list();
  }

  @Get(':id')
  @ApiOkResponse({ type: ModelDto })
  @ApiNotFoundResponse()
  get(@Param('id') id: string): Promise<ModelView> {
    return this.models.get(id);
  }

  @Post(':id/deploy')
  @HttpCode(200)
  @ApiOkResponse({ type: [DeployOutcomeDto], description: 'One outcome per device; each success is logged as ModelDeployed.' })
  @ApiNotFoundResponse()
  deploy(@Param('id') id: string, @Body() body: DeployModelDto): Promise<DeployOutcome[]> {
    return this.deployer.deploy(id, body.devices ?? null);
  }
}
