import { randomUUID } from 'node:crypto';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { DomainError, type ErrorResponse } from '@ddnn/contracts';
import { isDatabaseUnavailable } from '@ddnn/events';
import { MessageScrubber, reasonPhrase, STATUS_OF_KIND } from './error-response';

/** An error raised by Express middleware (body-parser, http-errors) that carries a client status. */
interface ClientHttpError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
  limit?: number;
  message: string;
}

function messageOf(response: unknown, fallback: string): string {
  if (typeof response === 'string') return response;
  const m = (response as { message?: unknown } | null)?.message;
  if (Array.isArray(m)) return m.map(String).join('; ');
  if (typeof m === 'string') return m;
  return fallback;
}

/**
 * Express error middleware answering the errors of the middleware registered before it (body parsers, input limits)
 * through `filter`. Without it they reach the dashboard's static server (ServeStaticModule) first, whose error
 * handler answers every error on an excluded path (/api) with the router's "Cannot PATCH /api/..." 404: a client
 * whose labels were malformed was told its stream did not exist.
 */
export function middlewareErrors(filter: PlatformExceptionFilter) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => filter.respond(err, req, res);
}

/**
 * The one place errors become responses: domain errors by kind, Nest's HTTP exceptions as they are, client
 * errors from Express middleware (malformed or oversized bodies) as 4xx, and anything else as a 500 that is
 * logged with a request id and answers with that id only. Every message is scrubbed of server paths.
 */
@Catch()
export class PlatformExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  constructor(private readonly scrubber: MessageScrubber) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const ctx = host.switchToHttp();
    this.respond(exception, ctx.getRequest<Request>(), ctx.getResponse<Response>());
  }

  /**
   * Answers `exception` on `res`: the filter's own path, and Express's for errors of the middleware that runs before
   * routing (bootstrap's `middlewareErrors`).
   */
  respond(exception: unknown, req: Request & { id?: unknown }, res: Response): void {
    const { status, message } = this.classify(exception);
    let body: ErrorResponse;
    if (status >= 500 && status !== 503) {
      const requestId = typeof req.id === 'string' || typeof req.id === 'number' ? String(req.id) : randomUUID();
      const e = exception instanceof Error ? exception : new Error(String(exception));
      this.logger.error(`request ${requestId} ${req.method} ${req.route?.path ?? '(no route)'} failed: ${e.stack ?? e.message}`);
      body = { statusCode: status, message: 'internal error: the server log has the details under this request id', requestId };
    } else {
      body = { statusCode: status, message: this.scrubber.scrub(message), error: reasonPhrase(status) };
    }
    if (res.headersSent) {
      // A stream (CSV export) already started: the client can only see it cut short.
      res.destroy();
      return;
    }
    res.status(status).json(body);
  }

  private classify(e: unknown): { status: number; message: string } {
    if (e instanceof DomainError) return { status: STATUS_OF_KIND[e.kind], message: e.message };
    if (e instanceof HttpException) {
      const status = e.getStatus();
      return { status, message: messageOf(e.getResponse(), e.message) };
    }
    if (isDatabaseUnavailable(e)) return { status: 503, message: 'the database is unavailable: retry later' };
    const http = e as ClientHttpError | null;
    const status = http?.status ?? http?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // DomainErrors thrown in a body-parser hook arrive wrapped with the hook's status.
      if (http?.type === 'entity.parse.failed') return { status: 400, message: 'body: malformed JSON' };
      if (http?.type === 'entity.too.large') return { status: 413, message: `body: larger than the limit of ${http.limit} bytes (DDNN_BODY_MAX_BYTES)` };
      if (http?.type === 'encoding.unsupported' || http?.type === 'charset.unsupported') return { status: 415, message: `body: ${http.message}` };
      return { status, message: http?.expose === false ? reasonPhrase(status) : (http?.message ?? reasonPhrase(status)) };
    }
    return { status: 500, message: '' };
  }
}
