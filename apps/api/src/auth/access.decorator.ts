import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ACCESS_KEY, type Access } from './access';
import { AuthGuard } from './auth.guard';

/** Requires a bearer token with the given access. */
export function RequireAccess(access: Access): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(ACCESS_KEY, access),
    UseGuards(AuthGuard),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({ description: 'Missing or unknown bearer token.' }),
    ApiForbiddenResponse({ description: 'The token may not do this (a device token on an operator endpoint, another device, or a locked device).' }),
  );
}
