import { BadRequestException, Body, Controller, Get, HttpCode, Param, Post, UploadedFile, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { ApiBadRequestResponse, ApiBody, ApiConsumes, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ModelView } from '@ddnn/contracts';
import { RequireAccess } from '../auth/access.decorator';
import { type DeployOutcome, ModelDeployer } from './model-deployer';
import { DeployModelDto, DeployOutcomeDto, ModelDto, RegisterModelDto, UploadModelDto } from './model.dto';
import { ModelsService } from './models.service';

const MAX_ARCHIVE_BYTES = 512 * 1024 * 1024;

@ApiTags('models')
@RequireAccess('operator')
@Controller('models')
export class ModelsController {
  constructor(
    private readonly models: ModelsService,
    private readonly deployer: ModelDeployer,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Register a model by path', description: 'Registers a checkpoint directory the server can read (manifest.json and one weights file per section); local use.' })
  @ApiCreatedResponse({ type: ModelDto })
  @ApiBadRequestResponse({ description: 'The path is not a checkpoint directory.' })
  register(@Body() body: RegisterModelDto): Promise<ModelView> {
    return this.models.register(body);
  }

  @Post('upload')
  @ApiOperation({ summary: 'Upload a model', description: 'Registers a checkpoint uploaded as a tar.gz archive (multipart field `archive`).' })
  @UseInterceptors(FileInterceptor('archive', { limits: { fileSize: MAX_ARCHIVE_BYTES, files: 1 } }))
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['archive'],
      properties: { archive: { type: 'string', format: 'binary', description: '.tar or .tar.gz of a checkpoint directory' }, id: { type: 'string' }, name: { type: 'string' } },
    },
  })
  @ApiCreatedResponse({ type: ModelDto })
  @ApiBadRequestResponse({ description: 'Not an archive, or not a valid checkpoint.' })
  upload(@UploadedFile() archive: { buffer: Buffer } | undefined, @Body() body: UploadModelDto): Promise<ModelView> {
    if (!archive) throw new BadRequestException('missing the archive file (multipart field "archive")');
    return this.models.registerArchive(archive.buffer, body);
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
  @ApiOperation({ summary: 'Deploy a model to devices', description: 'Sends each device the section it serves (device-<view>, edge-<name>) and reports what each acknowledged.' })
  @HttpCode(200)
  @ApiOkResponse({ type: [DeployOutcomeDto], description: 'One outcome per device; each success is logged as ModelDeployed.' })
  @ApiNotFoundResponse()
  deploy(@Param('id') id: string, @Body() body: DeployModelDto): Promise<DeployOutcome[]> {
    return this.deployer.deploy(id, body.devices ?? null);
  }
}
