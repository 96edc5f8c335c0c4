import { randomUUID } from 'node:crypto';
import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { isUniqueViolation } from '../database/unique-violation';
import { type CreateProfileRequest, isUuid, type ProfileCreatedResponse, type ProfileView } from '@ddnn/contracts';
import { generateToken, hashToken } from '../auth/tokens';
import { ProfileEntity } from './profile.entity';

const toView = (p: ProfileEntity): ProfileView => ({ id: p.id, name: p.name, description: p.description, createdAt: p.createdAt.toISOString() });

/** Device profiles and their provisioning keys (only the hash stored). */
@Injectable()
export class ProfilesService {
  constructor(@InjectRepository(ProfileEntity) private readonly profiles: Repository<ProfileEntity>) {}

  async create(req: CreateProfileRequest): Promise<ProfileCreatedResponse> {
    const provisioningKey = generateToken('ddnn_pk');
    try {
      const saved = await this.profiles.save(
        this.profiles.create({ id: randomUUID(), name: req.name, description: req.description ?? '', provisioningKeyHash: hashToken(provisioningKey) }),
      );
      return { ...toView(saved), provisioningKey };
    } catch (e) {
      if (isUniqueViolation(e)) throw new ConflictException(`a profile named ${req.name} exists`);
      throw e;
    }
  }

  async list(): Promise<ProfileView[]> {
    return (await this.profiles.find({ order: { createdAt: 'ASC' } })).map(toView);
  }

  async get(id: string): Promise<ProfileView> {
    return toView(await this.find(id));
  }

  /** A new provisioning key; the old one stops working (devices already provisioned keep their tokens). */
  async rotateKey(id: string): Promise<ProfileCreatedResponse> {
    const p = await this.find(id);
    const provisioningKey = generateToken('ddnn_pk');
    p.provisioningKeyHash = hashToken(provisioningKey);
    await this.profiles.save(p);
    return { ...toView(p), provisioningKey };
  }

  /** The profile a provisioning key belongs to, or null. */
  async byKey(key: string): Promise<ProfileEntity | null> {
    return this.profiles.findOneBy({ provisioningKeyHash: hashToken(key) });
  }

  /** A profile by name, created with a fresh key when missing (for simulated devices). */
  async ensureInternal(name: string, description: string): Promise<{ profile: ProfileEntity; key: string }> {
    const key = generateToken('ddnn_pk');
    await this.profiles
      .createQueryBuilder()
      .insert()
      .values({ id: randomUUID(), name, description, provisioningKeyHash: hashToken(key) })
      .orUpdate(['provisioning_key_hash'], ['name'])
      .execute();
    return { profile: await this.profiles.findOneByOrFail({ name }), key };
  }

  private async find(id: string): Promise<ProfileEntity> {
    const p = isUuid(id) ? await this.profiles.findOneBy({ id }) : null;
    if (!p) throw new NotFoundException(`no profile ${id}`);
    return p;
  }
}
