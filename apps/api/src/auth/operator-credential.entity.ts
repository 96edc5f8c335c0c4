import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** The operator token's hash when the platform generated it (DDNN_ADMIN_TOKEN unset). */
@Entity('operator_credentials')
export class OperatorCredentialEntity {
  @PrimaryColumn('text')
  id!: string;

  @Column('text', { name: 'token_hash' })
  tokenHash!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
