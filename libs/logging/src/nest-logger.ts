import type { LoggerService, LogLevel } from '@nestjs/common';
import type { Level, Logger } from 'pino';

const NEST_TO_PINO: Record<LogLevel, Level> = { fatal: 'fatal', error: 'error', warn: 'warn', log: 'info', debug: 'debug', verbose: 'trace' };

// Nest's own start-up narration (a line per module and per route) buries what a person needs to read.
const FRAMEWORK_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'WebSocketsController', 'NestApplication']);

/**
 * Nest's LoggerService on the shared pino logger: `new Logger('Sessions').warn(...)` anywhere in the API becomes
 * one pino line with `context: "Sessions"`. Type-only imports: the device agent and the cli load this library
 * without Nest.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('log', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('verbose', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(nestLevel: LogLevel, message: unknown, params: unknown[]): void {
    const rest = [...params];
    // Nest's Logger appends its context last; an error's stack (multi-line) comes before it.
    const last = rest[rest.length - 1];
    const context = typeof last === 'string' && !last.includes('\n') && rest.length > 0 ? (rest.pop() as string) : undefined;
    let level = NEST_TO_PINO[nestLevel];
    if (level === 'info' && context && FRAMEWORK_CONTEXTS.has(context)) level = 'debug';
    const fields: Record<string, unknown> = context ? { context } : {};
    const stack = rest.find((p): p is string => typeof p === 'string' && p.includes('\n'));
    const details = rest.filter((p) => p !== undefined && p !== stack);
    if (stack) fields.stack = stack;
    if (details.length) fields.details = details;
    if (message instanceof Error) this.logger[level]({ ...fields, err: message }, message.message);
    else if (typeof message === 'string') this.logger[level](fields, message);
    else this.logger[level]({ ...fields, data: message }, typeof message === 'object' ? '' : String(message));
  }
}
