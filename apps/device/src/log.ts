import { createLogger, type Logger } from '@ddnn/logging';

/**
 * The agent's logger: the platform's one configuration (@ddnn/logging) on stderr, JSON lines unless a person
 * watches a terminal (LOG_FORMAT=json|pretty and LOG_LEVEL override, as for the API).
 */
let logger: Logger = createLogger({ name: 'device', level: process.env.LOG_LEVEL, format: process.env.LOG_FORMAT });

/** Adds fields to every later line (the device's name and role, once the options are parsed). */
export function bindLogFields(fields: Record<string, unknown>): void {
  logger = logger.child(fields);
}

/** One log line: a message for people, optional fields for machines. */
export function log(level: 'debug' | 'info' | 'warn' | 'error', message: string, fields: Record<string, unknown> = {}): void {
  logger[level](fields, message);
}
