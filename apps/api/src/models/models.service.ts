import { randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { BadRequestException, ConflictException, Inject, Injectable, Logger, NotFoundException, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import type { DeployMessage, ModelView, RegisterModelRequest } from '@ddnn/contracts';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { repoRoot } from '../common/repo-root';
import { unpackCheckpointArchive } from './checkpoint-archive';
import { CheckpointDirError, readCheckpointDir } from './checkpoint-dir';
import { ModelEntity } from './model.entity';

export const DEFAULT_MODEL_ID = 'default';

/** Registered checkpoints (server-side directories) and the section payloads pushed to devices. */
@Injectable()
export class ModelsService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ModelsService.name);

  constructor(
    @InjectRepository(ModelEntity) private readonly models: Repository<ModelEntity>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Registers (or refreshes) the default model when its checkpoint is present. */
  async onApplicationBootstrap(): Promise<void> {
    try {
      const cp = await readCheckpointDir(this.config.DDNN_DEFAULT_MODEL_DIR);
      await this.models.save(this.models.create({ id: DEFAULT_MODEL_ID, name: cp.name, version: cp.version, path: cp.path, manifest: cp.manifest }));
      this.logger.log(`default model ${cp.name} ${cp.version} from ${cp.path}`);
    } catch (e) {
      if (!(e instanceof CheckpointDirError)) throw e;
      this.logger.warn(`no default model: ${e.message}`);
    }
  }

  async register(req: RegisterModelRequest): Promise<ModelView> {
    const dir = path.resolve(repoRoot(), req.path);
    let cp;
    try {
      cp = await readCheckpointDir(dir);
    } catch (e) {
      if (e instanceof CheckpointDirError) throw new BadRequestException(e.message);
      throw e;
    }
    const id = req.id ?? randomUUID();
    if (await this.models.existsBy({ id })) throw new ConflictException(`a model with id ${id} exists`);
    const saved = await this.models.save(this.models.create({ id, name: req.name ?? cp.name, version: cp.version, path: cp.path, manifest: cp.manifest }));
    return this.view(saved);
  }

  /** Registers an uploaded .tar / .tar.gz checkpoint, unpacked under <DDNN_DATA_DIR>/models/<id>. */
  async registerArchive(archive: Buffer, req: { id?: string; name?: string }): Promise<ModelView> {
    const id = req.id ?? randomUUID();
    if (await this.models.existsBy({ id })) throw new ConflictException(`a model with id ${id} exists`);
    const dest = path.join(this.config.DDNN_DATA_DIR, 'models', id);
    let cp;
    try {
      await unpackCheckpointArchive(archive, dest);
      cp = await readCheckpointDir(dest);
    } catch (e) {
      await rm(dest, { recursive: true, force: true });
      if (e instanceof CheckpointDirError) throw new BadRequestException(e.message.split(dest).join('archive'));
      throw e;
    }
    const saved = await this.models.save(this.models.create({ id, name: req.name ?? cp.name, version: cp.version, path: cp.path, manifest: cp.manifest }));
    return this.view(saved);
  }

  async list(): Promise<ModelView[]> {
    return Promise.all((await this.models.find({ order: { createdAt: 'DESC' } })).map((m) => this.view(m)));
  }

  async get(id: string): Promise<ModelView> {
    return this.view(await this.find(id));
  }

  /** The deploy message for one section of a registered model (weights read from its checkpoint). */
  async deployMessage(modelId: string, section: string): Promise<DeployMessage> {
    const m = await this.find(modelId);
    if (!/^(device-\d+|edge-[\w.-]+|local|cloud)$/.test(section)) throw new BadRequestException(`invalid section ${section}`);
    let weights: Buffer;
    try {
      weights = await readFile(path.join(m.path, `${section}.bin`));
    } catch {
      throw new NotFoundException(`model ${modelId} has no section ${section}`);
    }
    return { modelId: m.id, modelVersion: m.version, section, manifest: m.manifest, weights: new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength) };
  }

  /** The checkpoint directory of a registered model. */
  async checkpointPath(modelId: string): Promise<string> {
    return (await this.find(modelId)).path;
  }

  private async find(id: string): Promise<ModelEntity> {
    const m = await this.models.findOneBy({ id });
    if (!m) throw new NotFoundException(`no model ${id}`);
    return m;
  }

  private async view(m: ModelEntity): Promise<ModelView> {
    let sections: ModelView['sections'] = [];
    try {
      sections = (await readCheckpointDir(m.path)).sections;
    } catch (e) {
      this.logger.warn(`model ${m.id}: ${(e as Error).message}`);
    }
    return { id: m.id, name: m.name, version: m.version, path: m.path, sections, createdAt: m.createdAt.toISOString() };
  }
}
