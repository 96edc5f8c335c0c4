import { type ArgumentsHost, Catch, ServiceUnavailableException } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { isDatabaseUnavailable } from '@ddnn/events';

/**
 * A request whose query met an unreachable database (refused, dropped, restarting) answers 503 with a short
 * message, never a 500 with the driver's text; everything else goes to Nest's default handling.
 */
@Catch()
export class DatabaseUnavailableFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() === 'http' && isDatabaseUnavailable(exception)) {
      return super.catch(new ServiceUnavailableException('the database is unavailable; retry shortly'), host);
    }
    return super.catch(exception, host);
  }
}
