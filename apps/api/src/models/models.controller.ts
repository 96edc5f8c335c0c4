import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { ModelView } from '@ddnn/contracts';
import { RequireAccess } from '../auth/access.decorator';
import { ModelDto, RegisterModelDto } from './model.dto';
import { ModelsService } from './models.service';

@ApiTags('models')
@RequireAccess('operator')
@Controller('models')
export class ModelsController {
  constructor(private readonly models: ModelsService) {}

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
}
