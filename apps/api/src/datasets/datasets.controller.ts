import { Controller, Get, Param, ParseIntPipe, Res, StreamableFile } from '@nestjs/common';
import type { Response } from 'express';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiProperty, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import type { DatasetDetails, DatasetView, SampleViews } from '@ddnn/contracts';
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

class ClassCountDto {
  @ApiProperty() name!: string;
  @ApiProperty() train!: number;
  @ApiProperty() test!: number;
}

class ViewPresenceDto {
  @ApiProperty() view!: number;
  @ApiProperty({ description: 'Samples where this camera captured its view' }) present!: number;
  @ApiProperty({ description: 'Fraction of samples where the view is missing' }) missingRate!: number;
}

class DatasetDetailsDto implements DatasetDetails {
  @ApiProperty() name!: string;
  @ApiProperty() samples!: number;
  @ApiProperty({ type: 'object', properties: { height: { type: 'number' }, width: { type: 'number' }, channels: { type: 'number' } } })
  shape!: { height: number; width: number; channels: number };
  @ApiProperty({ type: [ClassCountDto] }) classes!: ClassCountDto[];
  @ApiProperty({ type: [ViewPresenceDto] }) perView!: ViewPresenceDto[];
  @ApiProperty({ description: 'Fraction of all (sample, view) pairs missing' }) missingRate!: number;
  @ApiProperty({ type: [Number], description: 'Samples with k views captured, k = 0..views' }) viewsPresentHistogram!: number[];
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

  @Get(':name/summary')
  @ApiOperation({ summary: 'Summarise a dataset', description: 'Class counts per split and each camera view\'s missing rate, read from the images (the first request for a dataset version reads them all).' })
  @ApiOkResponse({ type: DatasetDetailsDto })
  @ApiNotFoundResponse({ description: 'No such dataset.' })
  @ApiUnprocessableEntityResponse({ description: 'The dataset\'s files do not parse.' })
  summary(@Param('name') name: string): Promise<DatasetDetails> {
    return this.datasets.details(name);
  }

  @Get(':name/sheet.png')
  @ApiOperation({ summary: 'Contact sheet of a dataset', description: 'A PNG with three samples per class, every view side by side; a missing view is a grey cell with a red cross.' })
  @ApiProduces('image/png')
  @ApiNotFoundResponse({ description: 'No such dataset.' })
  @ApiUnprocessableEntityResponse({ description: 'The dataset\'s files do not parse.' })
  async sheet(@Param('name') name: string, @Res({ passthrough: true }) res: Response): Promise<StreamableFile> {
    return png(new StreamableFile(await this.datasets.sheet(name), PNG), res, 300);
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
  async view(
    @Param('name') name: string,
    @Param('sampleId') sampleId: string,
    @Param('view', new ParseIntPipe()) view: number,
    @Res({ passthrough: true }) res: Response,
  ): Promise<StreamableFile> {
    return png(new StreamableFile(await this.datasets.viewStream(name, sampleId, view), PNG), res, 3600);
  }
}

/**
 * A PNG answer, its headers set once it exists: set by decorators, they went out with an error's JSON too (a 404 typed
 * image/png, and cached for an hour).
 */
const PNG = { type: 'image/png' };
function png(file: StreamableFile, res: Response, maxAgeSeconds: number): StreamableFile {
  res.setHeader('Cache-Control', `private, max-age=${maxAgeSeconds}`);
  return file;
}
