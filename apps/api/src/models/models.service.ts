import { randomUUID } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { lstat, mkdir, mkdtemp, open, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { isUniqueViolation } from '../database/unique-violation';
import { ConflictError, type DeployMessage, InvalidInputError, type ModelView, NotFoundError, type RegisterModelRequest } from '@ddnn/contracts';
import { APP_CONFIG, type AppConfig, modelsRoots } from '../config/config';
import { repoRoot } from '../common/repo-root';
import { type ArchiveLimits, unpackCheckpointArchive } from './checkpoint-archive';
import { checkCheckpointWeights, type CheckpointDir, CheckpointDirError, checkpointVersion, readCheckpointDir } from './checkpoint-dir';
import { modelFacts } from './model-facts';
import { ModelEntity } from './model.entity';
import { uploadTempDir } from './upload-storage';

export const DEFAULT_MODEL_ID = 'default';

/** Said for every path outside the models roots, whether or not it exists there. */
const OUTSIDE_ROOTS = 'path must name a checkpoint folder under a models root (DDNN_MODELS_ROOTS)';

function isInside(child: string, root: string): boolean {
  const rel = path.relative(root, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Registered checkpoints (server-side directories) and the section payloads pushed to devices. */
@Injectable()
export class ModelsService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ModelsService.name);
  /** Model ids with an upload in progress on this node: a second upload with one of them gets a 409. */
  private readonly uploading = new Set<string>();
  private readonly dataDir: string;
  private readonly archiveLimits: ArchiveLimits;

  constructor(
    @InjectRepository(ModelEntity) private readonly models: Repository<ModelEntity>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.dataDir = path.resolve(config.DDNN_DATA_DIR);
    this.archiveLimits = {
      maxEntries: config.DDNN_ARCHIVE_MAX_ENTRIES,
      maxEntryBytes: config.DDNN_ARCHIVE_MAX_ENTRY_BYTES,
      maxTotalBytes: config.DDNN_ARCHIVE_MAX_TOTAL_BYTES,
      maxRatio: config.DDNN_ARCHIVE_MAX_RATIO,
    };
  }

  /** Registers (or refreshes) the default model when its checkpoint is present. */
  async onApplicationBootstrap(): Promise<void> {
    // A root given by DDNN_MODELS_ROOTS that is not a folder registers nothing: said once here, not left to be
    // found out from the 400 of every registration by path.
    if (this.config.DDNN_MODELS_ROOTS) {
      for (const root of modelsRoots(this.config)) {
        const isDir = await stat(root).then((s) => s.isDirectory(), () => false);
        if (!isDir) this.logger.warn(`DDNN_MODELS_ROOTS: ${root} is not a folder; no model can be registered from it`);
      }
    }
    try {
      const cp = await readCheckpointDir(this.config.DDNN_DEFAULT_MODEL_DIR);
      const version = await checkpointVersion(cp);
      await this.models.save(this.models.create({ id: DEFAULT_MODEL_ID, name: cp.name, version, path: cp.path, manifest: cp.manifest }));
      this.logger.log(`default model ${cp.name} ${version} from ${cp.path}`);
    } catch (e) {
      if (!(e instanceof CheckpointDirError)) throw e;
      this.logger.warn(`no default model at ${this.config.DDNN_DEFAULT_MODEL_DIR}: ${e.message}`);
    }
  }

  /**
   * Registers a checkpoint folder on the server. Only folders under a models root are read, judged after
   * resolving symlinks; a path outside gets the same answer whether or not it exists. The checkpoint is copied
   * into the server's models folder, as an upload is: a `ddnn train --out <that folder> --force` afterwards
   * would otherwise change, under the registered version, the sections devices load from disk at each deploy
   * while the server kept the cloud it had opened.
   */
  async register(req: RegisterModelRequest): Promise<ModelView> {
    const lexical = path.resolve(repoRoot(), req.path);
    const roots = modelsRoots(this.config);
    if (!roots.some((r) => isInside(lexical, r))) throw new InvalidInputError(OUTSIDE_ROOTS);
    const realRoots = (await Promise.all(roots.map((r) => realpath(r).catch(() => null)))).filter((r): r is string => r !== null);
    const shown = this.displayPath(lexical);
    const real = await realpath(lexical).catch(() => null);
    if (real === null) throw new CheckpointDirError(`${shown}: no such folder`);
    if (!realRoots.some((r) => isInside(real, r))) throw new InvalidInputError(OUTSIDE_ROOTS);
    if (!(await stat(real)).isDirectory()) throw new CheckpointDirError(`${shown}: not a folder`);
    const named = async <T>(fn: () => Promise<T>): Promise<T> => {
      try {
        return await fn();
      } catch (e) {
        if (e instanceof CheckpointDirError) throw new CheckpointDirError(`${shown}: ${e.message}`);
        throw e;
      }
    };
    // The source is judged first, so that its faults are reported as before; the copy is judged again below
    // (what is registered is what was copied, whatever the source became meanwhile).
    const id = req.id ?? randomUUID();
    if ((await realpath(path.join(this.dataDir, 'models', id)).catch(() => null)) === real) {
      // Already the folder where the server keeps model <id> (put there, then registered): nothing to copy it to.
      const { cp, version } = await named(() => this.judged(real));
      return this.view(await this.insert(this.models.create({ id, name: req.name ?? cp.name, version, path: real, manifest: cp.manifest })));
    }
    const source = await named(() => readCheckpointDir(real));
    // A manifest without a name is named after the folder registered, not the staging folder it is copied to.
    return this.store({ id, name: req.name ?? source.name }, (dir) =>
      named(async () => {
        for (const file of ['manifest.json', ...source.sections.map((s) => s.file)]) await copyRegularFile(path.join(real, file), path.join(dir, file), file);
        // Still the folder judged inside a models root: one whose path was moved or linked elsewhere meanwhile is refused.
        if ((await realpath(real).catch(() => null)) !== real) throw new CheckpointDirError('the folder moved while being copied');
        return this.judged(dir);
      }),
    );
  }

  /**
   * Registers an uploaded .tar / .tar.gz checkpoint (the file multer streamed to the private temp folder),
   * unpacked under the limits. The temp file is removed whatever happens.
   */
  async registerArchive(archive: string, req: { id?: string; name?: string }): Promise<ModelView> {
    try {
      return await this.store(req, async (dir) => {
        await unpackCheckpointArchive(archive, dir, this.archiveLimits);
        return this.judged(dir);
      });
    } finally {
      await rm(archive, { force: true });
    }
  }

  /** A checkpoint folder read, its weights checked and its version computed: what a registration records. */
  private async judged(dir: string): Promise<{ cp: CheckpointDir; version: string }> {
    const cp = await readCheckpointDir(dir);
    await checkCheckpointWeights(cp);
    return { cp, version: await checkpointVersion(cp) };
  }

  /**
   * Registers a checkpoint the server keeps in <DDNN_DATA_DIR>/models/<id>: `fill` writes it into a private
   * staging folder, where it is judged, then one rename moves it there. Nothing existing is touched on any
   * failure; the staging folder is removed whatever happens.
   */
  private async store(req: { id?: string; name?: string }, fill: (dir: string) => Promise<{ cp: CheckpointDir; version: string }>): Promise<ModelView> {
    const id = req.id ?? randomUUID();
    if (this.uploading.has(id)) throw new ConflictError(`a model with id ${id} is being registered`);
    this.uploading.add(id);
    const staging = await mkdtemp(path.join(uploadTempDir(this.dataDir), 'unpack-'));
    try {
      if (await this.models.existsBy({ id })) throw new ConflictError(`a model with id ${id} exists`);
      const modelsDir = path.join(this.dataDir, 'models');
      const target = path.join(modelsDir, id);
      if (await lstat(target).then(() => true, () => false)) throw new ConflictError(`a folder for model ${id} exists in the models folder`);
      // Named as the model: a manifest without a name is named after its folder, and every upload was "checkpoint".
      const unpacked = path.join(staging, id);
      await mkdir(unpacked, { mode: 0o700 });
      const { cp, version } = await fill(unpacked);
      await mkdir(modelsDir, { recursive: true });
      try {
        // rename() onto an existing non-empty folder fails: another node that won the race keeps its folder.
        await rename(unpacked, target);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new ConflictError(`a folder for model ${id} exists in the models folder`);
        throw e;
      }
      try {
        return this.view(await this.insert(this.models.create({ id, name: req.name ?? cp.name, version, path: target, manifest: cp.manifest })));
      } catch (e) {
        await rm(target, { recursive: true, force: true }); // ours: renamed in above, not registered
        throw e;
      }
    } finally {
      this.uploading.delete(id);
      await rm(staging, { recursive: true, force: true });
    }
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
    if (!/^(device-\d+|edge-[\w.-]+|local|cloud)$/.test(section)) throw new InvalidInputError(`invalid section ${section}`);
    let weights: Buffer;
    try {
      weights = await readFile(path.join(m.path, `${section}.bin`));
    } catch {
      throw new NotFoundError(`model ${modelId} has no section ${section}`);
    }
    return { modelId: m.id, modelVersion: m.version, section, manifest: m.manifest, weights: new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength) };
  }

  /** The checkpoint directory of a registered model and the version it holds (one row read, no disk). */
  async checkpoint(modelId: string): Promise<{ version: string; path: string }> {
    const m = await this.find(modelId);
    return { version: m.version, path: m.path };
  }

  /** Inserts a new model row; the primary key makes one of several concurrent registrations win. */
  private async insert(entity: ModelEntity): Promise<ModelEntity> {
    try {
      // The manifest is JSON (jsonb); TypeORM types a Record column as a nested partial entity.
      await this.models.insert(entity as Parameters<Repository<ModelEntity>['insert']>[0]);
    } catch (e) {
      if (isUniqueViolation(e)) throw new ConflictError(`a model with id ${entity.id} exists`);
      throw e;
    }
    return this.find(entity.id);
  }

  private async find(id: string): Promise<ModelEntity> {
    const m = await this.models.findOneBy({ id });
    if (!m) throw new NotFoundError(`no model ${id}`);
    return m;
  }

  /** A server folder as a client may see it: relative to the repository, or under <data>. */
  private displayPath(abs: string): string {
    if (isInside(abs, this.dataDir)) return path.join('<data>', path.relative(this.dataDir, abs));
    if (isInside(abs, repoRoot())) return path.relative(repoRoot(), abs) || '.';
    return path.join('<server>', path.basename(abs));
  }

  private async view(m: ModelEntity): Promise<ModelView> {
    let sections: ModelView['sections'] = [];
    try {
      sections = (await readCheckpointDir(m.path)).sections;
    } catch (e) {
      this.logger.warn(`model ${m.id}: ${(e as Error).message}`);
    }
    return { id: m.id, name: m.name, version: m.version, path: this.displayPath(m.path), sections, createdAt: m.createdAt.toISOString(), ...modelFacts(m.manifest) };
  }
}

/**
 * Copies one checkpoint file into a staging folder. Opened without following a link (readCheckpointDir refused
 * links, and one swapped in since would copy whatever it points at) and checked to be a regular file through the
 * open descriptor; written exclusively (the staging folder is new and ours).
 */
export async function copyRegularFile(from: string, to: string, name: string): Promise<void> {
  const fd = await open(from, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') throw new CheckpointDirError(`${name} was removed while being copied`);
    if (e.code === 'ELOOP') throw new CheckpointDirError(`${name} became a symbolic link while being copied`);
    throw e;
  });
  try {
    if (!(await fd.stat()).isFile()) throw new CheckpointDirError(`${name} is not a regular file`);
    await writeFile(to, await fd.readFile(), { flag: 'wx' });
  } finally {
    await fd.close();
  }
}
