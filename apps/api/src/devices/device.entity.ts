import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { AdminState, DeviceRole } from '@ddnn/contracts';

@Entity('devices')
export class DeviceEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'profile_id' })
  profileId!: string;

  @Column('text')
  name!: string;

  @Column('text')
  role!: DeviceRole;

  @Column('integer', { nullable: true })
  view!: number | null;

  @Column('jsonb')
  capabilities!: Record<string, unknown>;

  @Column('boolean')
  simulated!: boolean;

  @Column('text', { name: 'token_hash', nullable: true })
  tokenHash!: string | null;

  @Column('text', { name: 'admin_state' })
  adminState!: AdminState;

  @Column('boolean')
  active!: boolean;

  @Column('text', { nullable: true })
  node!: string | null;

  @Column('timestamptz', { name: 'last_connect_at', nullable: true })
  lastConnectAt!: Date | null;

  @Column('timestamptz', { name: 'last_disconnect_at', nullable: true })
  lastDisconnectAt!: Date | null;

  @Column('timestamptz', { name: 'last_activity_at', nullable: true })
  lastActivityAt!: Date | null;

  @Column('text', { name: 'model_id', nullable: true })
  modelId!: string | null;

  @Column('text', { name: 'model_version', nullable: true })
  modelVersion!: string | null;

  @Column('text', { nullable: true })
  section!: string | null;

  @Column('text', { array: true, default: () => "'{}'" })
  tags!: string[];

  @Column('text', { nullable: true })
  problem!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
