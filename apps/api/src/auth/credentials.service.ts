import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { DeviceEntity } from '../devices/device.entity';
import { OperatorCredentialEntity } from './operator-credential.entity';
import { generateToken, hashToken, sameHash } from './tokens';

export type Identity =
  | { kind: 'operator' }
  | { kind: 'device'; deviceId: string; locked: boolean }
  | { kind: 'unknown' };

const OPERATOR = 'operator';

/**
 * Checks bearer tokens. The operator token is DDNN_ADMIN_TOKEN or, when unset, one generated at the first
 * start: only its hash is stored; it is printed once and written to <DDNN_DATA_DIR>/admin-token.
 */
@Injectable()
export class CredentialsService implements OnModuleInit {
  private readonly logger = new Logger(CredentialsService.name);
  private operatorHash: string | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectRepository(OperatorCredentialEntity) private readonly operators: Repository<OperatorCredentialEntity>,
    @InjectRepository(DeviceEntity) private readonly devices: Repository<DeviceEntity>,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.config.DDNN_ADMIN_TOKEN) {
      this.operatorHash = hashToken(this.config.DDNN_ADMIN_TOKEN);
      return;
    }
    const stored = await this.operators.findOneBy({ id: OPERATOR });
    if (stored) {
      this.operatorHash = stored.tokenHash;
      return;
    }
    const token = generateToken('ddnn_admin');
    // Several nodes may start at once: the first insert wins, the others read its hash.
    const inserted = await this.operators
      .createQueryBuilder()
      .insert()
      .values({ id: OPERATOR, tokenHash: hashToken(token) })
      .orIgnore()
      .returning(['id'])
      .execute();
    if (inserted.raw.length === 0) {
      this.operatorHash = (await this.operators.findOneByOrFail({ id: OPERATOR })).tokenHash;
      return;
    }
    this.operatorHash = hashToken(token);
    const file = path.join(this.config.DDNN_DATA_DIR, 'admin-token');
    await mkdir(this.config.DDNN_DATA_DIR, { recursive: true });
    await writeFile(file, `${token}\n`, { mode: 0o600 });
    // Shown once, on stdout for the person starting the platform; never in the structured log.
    const signIn = `http://${this.config.HOST}:${this.config.PORT}/#token=${token}`;
    process.stdout.write(`\n  Operator token (shown once; also in ${file}):\n  ${token}\n  Dashboard sign-in link: ${signIn}\n\n`);
    this.logger.log(`generated the operator token; it is in ${file}`);
  }

  /** Who a bearer token belongs to. */
  async identify(token: string): Promise<Identity> {
    const hash = hashToken(token);
    if (this.operatorHash && sameHash(hash, this.operatorHash)) return { kind: 'operator' };
    const device = await this.devices.findOne({ where: { tokenHash: hash }, select: { id: true, adminState: true } });
    if (device) return { kind: 'device', deviceId: device.id, locked: device.adminState === 'locked' };
    return { kind: 'unknown' };
  }
}
