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
  ApiOperation,
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
  @ApiOperation({ summary: 'Register a model by path', description: 'Registers a checkpoint directory the server can read (manifest.json and one weights file per section) by copying it into <data>/models/<id>: later writes to the folder do not change the registered model. Local use.' })
  @ApiCreatedResponse({ type: ModelDto })
  @ApiBadRequestResponse({ description: 'The path is not a checkpoint folder under a models root.' })
  @ApiConflictResponse({ description: 'A model with this id exists, is being registered, or has a folder in <data>/models.' })
  register(@Body() body: RegisterModelDto): Promise<ModelView> {
    return this.models.register(body);
  }

  @Post('upload')
  @ApiOperation({ summary: 'Upload a model', description: 'Registers a checkpoint uploaded as a tar.gz archive (multipart field `archive`), unpacked under the archive limits (SECURITY.md) and installed atomically.' })
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
  @ApiOperation({ summary: 'List models', description: 'Registered models with their sections and sizes.' })
  @ApiOkResponse({ type: [ModelDto] })
  list(): Promise<ModelView[]> {
    return this.models.list();
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a model', description: 'A registered model: version, sections and their sizes.' })
  @ApiOkResponse({ type: ModelDto })
  @ApiNotFoundResponse()
  get(@Param('id') id: string): Promise<ModelView> {
    return this.models.get(id);
  }

  @Post(':id/deploy')
  @ApiOperation({ summary: 'Deploy a model to devices', description: 'Sends each device the section it serves (device-<view>, edge-<name>) and reports what each acknowledged. A device that a queued or running session or stream computes with is refused (its outcome says which run) unless this is the very section the run installed: stop the run first.' })
  @HttpCode(200)
  @ApiOkResponse({ type: [DeployOutcomeDto], description: 'One outcome per device; each success is logged as ModelDeployed.' })
  @ApiNotFoundResponse()
  deploy(@Param('id') id: string, @Body() body: DeployModelDto): Promise<DeployOutcome[]> {
    return this.deployer.deploy(id, body.devices ?? null);
  }
}
