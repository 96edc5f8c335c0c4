import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import { type DatasetDetails, type DatasetView, type SampleViews, UnprocessableError } from '@ddnn/contracts';
import { DatasetFormatError, datasetPaths, isValidSampleId, MAX_IMAGE_FILE_BYTES, openRegularFile } from '@ddnn/datasets';
import { DatasetCatalog } from '../orchestrator/dataset-catalog';
import { DatasetInsights } from './dataset-insights';

/** Datasets known to this platform (folders under <DDNN_DATA_DIR>/datasets) and their view images. */
@Injectable()
export class DatasetsService {
  private readonly logger = new Logger(DatasetsService.name);
  /** What was last logged about each unreadable dataset: the dashboard lists datasets every few seconds. */
  private readonly reported = new Map<string, string>();

  constructor(
    private readonly catalog: DatasetCatalog,
    private readonly insights: DatasetInsights,
  ) {}

  async list(): Promise<DatasetView[]> {
    const root = this.catalog.root();
    if (!fs.existsSync(root)) return [];
    const names = fs
      .readdirSync(root, { withFileTypes: true })
      // A link to a dataset kept elsewhere (a big one on another disk) is one: runs and its pages read through it.
      .filter((d) => (d.isDirectory() || (d.isSymbolicLink() && isFolder(`${root}/${d.name}`))) && fs.existsSync(datasetPaths.manifest(`${root}/${d.name}`)))
      .map((d) => d.name)
      .sort();
    // One folder with a broken manifest or labels file used to fail the whole list (404), hiding every good dataset
    // from the dashboard: it is left out and logged (GET /api/datasets/<name> says why).
    const read = await Promise.allSettled(names.map((name) => this.get(name)));
    const listed: DatasetView[] = [];
    read.forEach((r, i) => {
      const name = names[i];
      if (r.status === 'fulfilled') {
        listed.push(r.value);
        this.reported.delete(name);
        return;
      }
      const why = r.reason instanceof Error ? r.reason.message : String(r.reason);
      if (this.reported.get(name) !== why) this.logger.warn(`dataset folder '${name}' is left out of the list: ${why}`);
      this.reported.set(name, why);
    });
    return listed;
  }

  /** 404 when there is no such dataset; 422 when its folder is there but its manifest or labels do not parse. */
  async get(name: string): Promise<DatasetView> {
    try {
      const { dir: _dir, ...view } = await this.catalog.describe(name);
      return view;
    } catch (e) {
      if (e instanceof DatasetFormatError) throw new UnprocessableError(`dataset '${name}' cannot be read: ${e.message}`);
      throw new NotFoundException(e instanceof Error ? e.message : String(e));
    }
  }

  /** Class counts and missing-view rates, read from the images (the first call for a dataset reads them all). */
  async details(name: string): Promise<DatasetDetails> {
    await this.get(name);
    return this.readable(name, () => this.insights.details(name));
  }

  /** A contact sheet PNG: a few samples per class, every view side by side, missing views crossed out. */
  async sheet(name: string): Promise<Buffer> {
    await this.get(name);
    return this.readable(name, () => this.insights.sheet(name));
  }

  /** A dataset whose files do not parse is the data's fault, not the server's: 422 naming the dataset. */
  private async readable<T>(name: string, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (e) {
      if (e instanceof DatasetFormatError) throw new UnprocessableError(`dataset '${name}' cannot be read: ${e.message}`);
      throw e;
    }
  }

  /** Which views of a sample were captured (so a client asks only for images that exist). */
  async sampleViews(name: string, sampleId: string): Promise<SampleViews> {
    const dataset = await this.get(name);
    if (!isValidSampleId(sampleId) || !fs.existsSync(datasetPaths.sample(this.catalog.dir(name), sampleId))) {
      throw new NotFoundException(`no sample '${sampleId}' in dataset '${name}'`);
    }
    const captured: number[] = [];
    for (let v = 0; v < dataset.views; v++) if (fs.existsSync(datasetPaths.view(this.catalog.dir(name), sampleId, v))) captured.push(v);
    return { sampleId, captured, views: dataset.views };
  }

  /**
   * One captured view's PNG, opened; 404 naming what is missing (an uncaptured view has no file). Opened without
   * blocking and refused unless a regular file: a FIFO in its place held one of libuv's four threads until something
   * wrote into it.
   */
  async viewStream(name: string, sampleId: string, view: number): Promise<Readable> {
    const file = await this.viewFile(name, sampleId, view);
    try {
      return await openRegularFile(file, MAX_IMAGE_FILE_BYTES);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundException(`view ${view} of sample '${sampleId}' was not captured`);
      throw new UnprocessableError(`dataset '${name}': view ${view} of sample '${sampleId}' cannot be read: ${(e as Error).message}`);
    }
  }

  private async viewFile(name: string, sampleId: string, view: number): Promise<string> {
    const dataset = await this.get(name);
    if (!isValidSampleId(sampleId)) throw new NotFoundException(`bad sample id '${sampleId}'`);
    if (view < 0 || view >= dataset.views) throw new NotFoundException(`dataset '${name}' has views 0..${dataset.views - 1}, not ${view}`);
    const file = datasetPaths.view(this.catalog.dir(name), sampleId, view);
    if (!fs.existsSync(file)) {
      const sampleExists = fs.existsSync(datasetPaths.sample(this.catalog.dir(name), sampleId));
      throw new NotFoundException(
        sampleExists ? `view ${view} of sample '${sampleId}' was not captured` : `no sample '${sampleId}' in dataset '${name}'`,
      );
    }
    return file;
  }
}

function isFolder(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
