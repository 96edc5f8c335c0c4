import { type CanActivate, type ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { CredentialsService } from '../../auth/credentials.service';
import { bearerToken, hashToken, sameHash } from '../../auth/tokens';
import { APP_CONFIG, type AppConfig } from '../../config/config';

/**
 * GET /metrics: the operator token, or DDNN_METRICS_TOKEN (a token for Prometheus that can do nothing else).
 * Device tokens are refused.
 */
@Injectable()
export class MetricsAuthGuard implements CanActivate {
  private readonly metricsHash: string | null;

  constructor(
    private readonly credentials: CredentialsService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.metricsHash = config.DDNN_METRICS_TOKEN ? hashToken(config.DDNN_METRICS_TOKEN) : null;
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const token = bearerToken(ctx.switchToHttp().getRequest<Request>().headers.authorization);
    if (!token) throw new UnauthorizedException('missing bearer token (Authorization: Bearer <operator or metrics token>)');
    if (this.metricsHash && sameHash(hashToken(token), this.metricsHash)) return true;
    const who = await this.credentials.identify(token);
    if (who.kind === 'operator') return true;
    if (who.kind === 'device') throw new ForbiddenException('a device token cannot read /metrics');
    throw new UnauthorizedException('unknown or revoked token');
  }
}
