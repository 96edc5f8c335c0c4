import { Controller, Get, Header, Param, ParseIntPipe, StreamableFile } from '@nestjs/common';
import { createReadStream } from 'node:fs';
import { ApiNotFoundResponse, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { DatasetView } from '@ddnn/contracts';
import { RequireAccess } from '../auth/access.decorator';
import { DatasetsService } from './datasets.service';

// Camera views are the raw data a DDNN keeps off the network: operators only.
@ApiTags('datasets')
@RequireAccess('operator')
@Controller('datasets')
export class DatasetsController {
  constructor(private readonly datasets: DatasetsService) {}

  @Get()
  @ApiOkResponse({ description: 'Datasets under <DDNN_DATA_DIR>/datasets.' })
  list(): Promise<DatasetView[]> {
    return this.datasets.list();
  }

  @Get(':name')
  @ApiNotFoundResponse({ description: 'No such dataset.' })
  get(@Param('name') name: string): Promise<DatasetView> {
    return this.datasets.get(name);
  }

  @Get(':name/samples/:sampleId/views/:view.png')
  @ApiProduces('image/png')
  @ApiNotFoundResponse({ description: 'No such dataset, sample or view, or the camera did not capture that view.' })
  @Header('Content-Type', 'image/png')
  @Header('Cache-Control', 'private, max-age=3600')
  async view(
    @Param('name') name: string,
    @Param('sampleId') sampleId: string,
    @Param('view', new ParseIntPipe()) view: number,
  ): Promise<StreamableFile> {
    return new StreamableFile(createReadStream(await this.datasets.viewFile(name, sampleId, view)));
  }
}
