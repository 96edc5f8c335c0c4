import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity('device_profiles')
export class ProfileEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('text')
  name!: string;

  @Column('text')
  description!: string;

  @Column('text', { name: 'provisioning_key_hash' })
  provisioningKeyHash!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
