import fs from 'node:fs';
import { Injectable } from '@nestjs/common';
import type { DatasetDetails } from '@ddnn/contracts';
import { contactSheet, datasetPaths, encodePng, loadDataset, summarizeDataset } from '@ddnn/datasets';
import { DatasetCatalog } from '../orchestrator/dataset-catalog';

interface Insights {
  version: number;
  details: DatasetDetails;
  sheet: Buffer;
}

/** How many datasets' summaries and sheets stay in memory (each a few kB of numbers and one PNG). */
const KEPT = 8;

/**
 * Per-dataset summary (missing views, class counts) and contact sheet, computed from the images once per version
 * of the dataset (its manifest's modification time) and kept small: the pixels themselves are dropped at once, so a
 * large dataset costs memory only while it is read.
 */
@Injectable()
export class DatasetInsights {
  private readonly cache = new Map<string, Promise<Insights>>();

  constructor(private readonly catalog: DatasetCatalog) {}

  async details(name: string): Promise<DatasetDetails> {
    return (await this.insights(name)).details;
  }

  async sheet(name: string): Promise<Buffer> {
    return (await this.insights(name)).sheet;
  }

  private async insights(name: string): Promise<Insights> {
    const dir = this.catalog.dir(name);
    const version = fs.statSync(datasetPaths.manifest(dir)).mtimeMs;
    const cached = this.cache.get(name);
    if (cached) {
      const got = await cached.catch(() => undefined);
      if (got && got.version === version) return got;
    }
    const next = this.compute(name, dir, version);
    this.cache.delete(name);
    this.cache.set(name, next);
    next.catch(() => this.cache.delete(name));
    while (this.cache.size > KEPT) this.cache.delete(this.cache.keys().next().value as string);
    return next;
  }

  private async compute(name: string, dir: string, version: number): Promise<Insights> {
    const ds = await loadDataset(dir);
    const s = summarizeDataset(ds);
    const sheet = Buffer.from(encodePng(contactSheet(ds, { perClass: 3, scale: 3 })));
    return {
      version,
      sheet,
      details: {
        name,
        samples: s.samples,
        shape: s.shape,
        classes: s.classes.map((c) => ({ name: c.name, train: c.train, test: c.test })),
        perView: s.perView.map((v) => ({ view: v.view, present: v.present, missingRate: v.missingRate })),
        missingRate: s.missingRate,
        viewsPresentHistogram: s.viewsPresentHistogram,
      },
    };
  }
}
