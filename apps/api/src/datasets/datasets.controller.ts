import { Controller, Get, Header, Param, ParseIntPipe, StreamableFile } from '@nestjs/common';
import { createReadStream } from 'node:fs';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { DatasetView, SampleViews } from '@ddnn/contracts';
import { RequireAccess } from '../auth/access.decorator';
import { DatasetsService } from './datasets.service';

class DatasetDto implements DatasetView {
  @ApiProperty({ example: 'synth' }) name!: string;
  @ApiProperty({ type: [String], example: ['car', 'bus', 'person'] }) classes!: string[];
  @ApiProperty({ description: 'Camera views per sample', example: 6 }) views!: number;
  @ApiProperty({ type: 'object', properties: { train: { type: 'number' }, test: { type: 'number' } } }) splits!: { train: number; test: number };
}

class SampleViewsDto implements SampleViews {
  @ApiProperty() sampleId!: string;
  @ApiProperty({ type: [Number], description: 'Views the cameras captured' }) captured!: number[];
  @ApiProperty({ description: 'Views per sample in the dataset' }) views!: number;
}

// Camera views are the raw data a DDNN keeps off the network: operators only.
@ApiTags('datasets')
@RequireAccess('operator')
@Controller('datasets')
export class DatasetsController {
  constructor(private readonly datasets: DatasetsService) {}

  @Get()
  @ApiOperation({ summary: 'List datasets', description: 'Datasets the platform can run sessions on: name, classes, views per sample, samples per split.' })
  @ApiOkResponse({ type: [DatasetDto], description: 'Datasets under <DDNN_DATA_DIR>/datasets.' })
  list(): Promise<DatasetView[]> {
    return this.datasets.list();
  }

  @Get(':name')
  @ApiOperation({ summary: 'Get a dataset', description: 'Its classes, views per sample and samples per split.' })
  @ApiOkResponse({ type: DatasetDto })
  @ApiNotFoundResponse({ description: 'No such dataset.' })
  get(@Param('name') name: string): Promise<DatasetView> {
    return this.datasets.get(name);
  }

  @Get(':name/samples/:sampleId')
  @ApiOperation({ summary: 'Which views of a sample exist', description: 'The views the cameras captured; an uncaptured view has no image.' })
  @ApiOkResponse({ type: SampleViewsDto })
  @ApiNotFoundResponse({ description: 'No such dataset or sample.' })
  sample(@Param('name') name: string, @Param('sampleId') sampleId: string): Promise<SampleViews> {
    return this.datasets.sampleViews(name, sampleId);
  }

  @Get(':name/samples/:sampleId/views/:view.png')
  @ApiOperation({ summary: 'One camera view of a sample', description: 'The PNG a camera captured (operators only: raw data stays off the network in a DDNN).' })
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
