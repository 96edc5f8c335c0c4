import fs from 'node:fs';
import path from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { readDatasetHeader } from '@ddnn/datasets';
import type { CreateSessionRequest } from '@ddnn/contracts';
import { APP_CONFIG, type AppConfig } from '../config/config';
import type { SessionSamples } from './session-runner';

export interface DatasetDescription {
  name: string;
  dir: string;
  classes: string[];
  views: number;
  splits: { train: number; test: number };
}

/** Datasets under <DDNN_DATA_DIR>/datasets/<name>; the server reads only their manifest and labels. */
@Injectable()
export class DatasetCatalog {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** The folder holding every dataset. */
  root(): string {
    return path.join(this.config.DDNN_DATA_DIR, 'datasets');
  }

  dir(name: string): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || name.includes('..')) throw new Error(`invalid dataset name '${name}'`);
    return path.join(this.root(), name);
  }

  async describe(name: string): Promise<DatasetDescription> {
    const dir = this.dir(name);
    if (!fs.existsSync(dir)) throw new Error(`dataset '${name}' not found (looked in ${dir})`);
    const { manifest, rows } = await readDatasetHeader(dir);
    return {
      name,
      dir,
      classes: manifest.classes,
      views: manifest.views,
      splits: { train: rows.filter((r) => r.split === 'train').length, test: rows.filter((r) => r.split === 'test').length },
    };
  }

  /** The session's samples in dataset order: the split, cut to `limit`. */
  async samples(spec: Pick<CreateSessionRequest, 'dataset' | 'split' | 'limit'>): Promise<SessionSamples> {
    const { manifest, rows } = await readDatasetHeader(this.dir(spec.dataset));
    const split = rows.filter((r) => r.split === spec.split);
    const chosen = spec.limit ? split.slice(0, spec.limit) : split;
    return {
      classes: manifest.classes,
      views: manifest.views,
      samples: chosen.map((r, index) => ({ index, sampleId: r.sample, label: r.label })),
    };
  }
}
