import { createLogger } from '@ddnn/logging';

/**
 * The cli's logger: progress and diagnostics on stderr through the platform's one configuration (@ddnn/logging),
 * so stdout holds only a command's output (with --json, its last line is one JSON object). Pretty by default,
 * for the person running the command; LOG_FORMAT=json gives JSON lines, LOG_LEVEL=warn quietens it.
 */
export const logger = createLogger({ name: 'cli', level: process.env.LOG_LEVEL, format: process.env.LOG_FORMAT ?? 'pretty' });

/** A progress or diagnostic line for the person running the command. */
export function log(message: string, fields: Record<string, unknown> = {}): void {
  logger.info(fields, message);
}
