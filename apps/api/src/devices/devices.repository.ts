import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { ArrayContains, ILike, In, LessThan, type FindOptionsWhere, type Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { type DeviceListQuery, isUuid } from '@ddnn/contracts';
import { DeviceEntity } from './device.entity';

/** Every query on the devices table. */
/** The unique index on devices.name (migrations/1766500000000-device-names-unique.ts). */
export const DEVICE_NAME_KEY = 'devices_name_key';

@Injectable()
export class DevicesRepository {
  constructor(@InjectRepository(DeviceEntity) private readonly repo: Repository<DeviceEntity>) {}

  create(fields: Partial<DeviceEntity>): Promise<DeviceEntity> {
    return this.repo.save(this.repo.create(fields));
  }

  byId(id: string): Promise<DeviceEntity | null> {
    return isUuid(id) ? this.repo.findOneBy({ id }) : Promise.resolve(null);
  }

  byIds(ids: string[]): Promise<DeviceEntity[]> {
    return ids.length ? this.repo.findBy({ id: In(ids) }) : Promise.resolve([]);
  }

  byTokenHash(hash: string): Promise<DeviceEntity | null> {
    return this.repo.findOneBy({ tokenHash: hash });
  }

  async page(q: DeviceListQuery, limit: number, offset: number): Promise<[DeviceEntity[], number]> {
    const where: FindOptionsWhere<DeviceEntity> = {};
    if (q.role) where.role = q.role;
    if (q.adminState) where.adminState = q.adminState;
    if (q.active !== undefined) where.active = q.active;
    if (q.simulated !== undefined) where.simulated = q.simulated;
    if (q.tag) where.tags = ArrayContains([q.tag]);
    if (q.name) where.name = ILike(`%${q.name.replace(/[%_\\]/g, (c) => `\\${c}`)}%`);
    return this.repo.findAndCount({ where, order: { createdAt: 'DESC', id: 'ASC' }, take: limit, skip: offset });
  }

  async update(id: string, fields: Partial<DeviceEntity>): Promise<void> {
    await this.repo.update({ id }, fields as QueryDeepPartialEntity<DeviceEntity>);
  }

  /**
   * Devices heard from at `at` through `node`, in one statement (`problem`: what the agent reports of itself, left as
   * it is when undefined): the ones that were not active before, with how long they had been silent. Only devices
   * whose last connect is newer than their last disconnect: a heartbeat or a simulated beat in flight when the
   * connection's end was logged is not a sign of life, and made the row active again after DeviceDisconnected.
   */
  async markAlive(ids: string[], at: Date, node: string, problem?: string | null): Promise<{ id: string; silentForMs: number }[]> {
    const rows: { id: string; before: Date | null }[] = await this.repo.query(
      `WITH old AS (SELECT id, active, last_activity_at FROM devices WHERE id = ANY ($1::uuid[])
                      AND last_connect_at IS NOT NULL AND (last_disconnect_at IS NULL OR last_disconnect_at < last_connect_at) FOR UPDATE),
            up AS (UPDATE devices d SET active = true, node = $2, last_activity_at = $3, updated_at = now(),
                          problem = CASE WHEN $4::boolean THEN $5 ELSE d.problem END
                     FROM old WHERE d.id = old.id RETURNING d.id, old.active AS was_active, old.last_activity_at AS before)
       SELECT id, before FROM up WHERE NOT was_active`,
      [ids, node, at, problem !== undefined, problem ?? null],
    );
    return rows.map((r) => ({ id: r.id, silentForMs: r.before ? Math.max(0, at.getTime() - new Date(r.before).getTime()) : 0 }));
  }

  async remove(id: string): Promise<void> {
    await this.repo.delete({ id });
  }

  /** Devices still marked active whose last activity is older than `before`. */
  silentSince(before: Date): Promise<DeviceEntity[]> {
    return this.repo.findBy({ active: true, lastActivityAt: LessThan(before) });
  }

  /** Marks inactive only if still active and silent (another node may have done it): true when this call did. */
  async markInactive(id: string, before: Date): Promise<boolean> {
    const r = await this.repo
      .createQueryBuilder()
      .update()
      .set({ active: false, node: null })
      .where('id = :id AND active AND last_activity_at < :before', { id, before })
      .execute();
    return (r.affected ?? 0) > 0;
  }

  allActive(): Promise<DeviceEntity[]> {
    return this.repo.findBy({ active: true });
  }

  /**
   * Marks a device disconnected only if it is still as read (active, held by `node`, last connected at `connectedAt`):
   * true when this call did. A device that connected to a live node meanwhile is that node's, not released.
   */
  async releaseIfUnchanged(id: string, node: string | null, connectedAt: Date | null): Promise<boolean> {
    const r = await this.repo
      .createQueryBuilder()
      .update()
      .set({ active: false, node: null, lastDisconnectAt: () => 'now()' })
      .where('id = :id AND active AND node IS NOT DISTINCT FROM :node AND last_connect_at IS NOT DISTINCT FROM :connectedAt', { id, node, connectedAt })
      .execute();
    return (r.affected ?? 0) > 0;
  }
}
