import { type CanActivate, type ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ACCESS_KEY, type Access } from './access';
import { CredentialsService } from './credentials.service';
import type { Principal } from './principal';
import { bearerToken } from './tokens';

/** Bearer-token guard: the operator token, or a device token acting only as its own device. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly credentials: CredentialsService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const access = this.reflector.getAllAndOverride<Access | undefined>(ACCESS_KEY, [ctx.getHandler(), ctx.getClass()]) ?? 'operator';
    const req = ctx.switchToHttp().getRequest<Request & { principal?: Principal }>();
    const token = bearerToken(req.headers.authorization);
    if (!token) throw new UnauthorizedException('missing bearer token (Authorization: Bearer <token>)');
    const who = await this.credentials.identify(token);
    if (who.kind === 'unknown') throw new UnauthorizedException('unknown or revoked token');
    if (who.kind === 'operator') {
      req.principal = { kind: 'operator' };
      return true;
    }
    if (who.locked) throw new ForbiddenException('this device is locked by an operator');
    if (access === 'operator') throw new ForbiddenException('a device token cannot call operator endpoints');
    if (req.params?.id !== who.deviceId) throw new ForbiddenException('a device token acts only as its own device');
    req.principal = { kind: 'device', deviceId: who.deviceId };
    return true;
  }
}
