import { Body, Controller, Get, HttpCode, Param, Post, UploadedFile, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiPayloadTooLargeResponse,
  ApiTags,
} from '@nestjs/swagger';
import { InvalidInputError, type ModelView } from '@ddnn/contracts';
import { RequireAccess } from '../auth/access.decorator';
import { type DeployOutcome, ModelDeployer } from './model-deployer';
import { DeployModelDto, DeployOutcomeDto, ModelDto, RegisterModelDto, UploadModelDto } from './model.dto';
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
  @ApiBadRequestResponse({ description: 'The path is not a checkpoint folder under a models root.' })
  @ApiConflictResponse({ description: 'A model with this id exists.' })
  register(@Body() body: RegisterModelDto): Promise<ModelView> {
    return this.models.register(body);
  }

  @Post('upload')
  // Storage and limits: ModelsModule (multer streams the file to a private folder, never into memory).
  @UseInterceptors(FileInterceptor('archive'))
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['archive'],
      properties: { archive: { type: 'string', format: 'binary', description: '.tar or .tar.gz of a checkpoint directory' }, id: { type: 'string' }, name: { type: 'string' } },
    },
  })
  @ApiCreatedResponse({ type: ModelDto })
  @ApiBadRequestResponse({ description: 'Not an archive, an entry a checkpoint may not hold (links, absolute or parent paths, other names), or not a valid checkpoint.' })
  @ApiConflictResponse({ description: 'A model with this id exists or is being uploaded.' })
  @ApiPayloadTooLargeResponse({ description: 'The archive or what it unpacks to is over a limit (the message names it).' })
  upload(@UploadedFile() archive: { path: string } | undefined, @Body() body: UploadModelDto): Promise<ModelView> {
    if (!archive) throw new InvalidInputError('missing the archive file (multipart field "archive")');
    return this.models.registerArchive(archive.path, body);
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
