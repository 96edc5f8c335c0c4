import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity('models')
export class ModelEntity {
  @PrimaryColumn('text')
  id!: string;

  @Column('text')
  name!: string;

  @Column('text')
  version!: string;

  @Column('text')
  path!: string;

  @Column('jsonb')
  manifest!: Record<string, unknown>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
