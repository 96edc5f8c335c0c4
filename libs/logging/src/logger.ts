import { pino, type DestinationStream, type Level, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { REDACTED, redactPaths, scrubSecrets } from './redact';

export type { Logger } from 'pino';
export type LogFormat = 'json' | 'pretty';

/** Names LOG_LEVEL takes: pino's, plus Nest's `log` (= info) and `verbose` (= trace) that the API always accepted. */
const LEVEL_ALIASES: Record<string, Level> = { log: 'info', verbose: 'trace' };
const LEVELS = new Set<string>(['fatal', 'error', 'warn', 'info', 'debug', 'trace']);

/** The pino level for a LOG_LEVEL value; undefined or an unknown name gives `fallback`. */
export function logLevel(value: string | undefined, fallback: Level = 'info'): Level {
  if (!value) return fallback;
  const name = LEVEL_ALIASES[value] ?? value;
  return LEVELS.has(name) ? (name as Level) : fallback;
}

/**
 * LOG_FORMAT when set (`json` or `pretty`); otherwise pretty for a person at a terminal and JSON lines for
 * everything else (a pipe, a file, a container's log collector).
 */
export function logFormat(value: string | undefined, stream: { isTTY?: boolean } = process.stderr): LogFormat {
  if (value === 'json' || value === 'pretty') return value;
  return stream.isTTY ? 'pretty' : 'json';
}

export interface LoggerOptions {
  /** The program: `api`, `device`, `cli`. */
  name: string;
  /** A LOG_LEVEL value (default info). */
  level?: string;
  /** A LOG_FORMAT value (default: by terminal, see logFormat). */
  format?: string;
  /** Where lines go (default stderr, so a program's own output on stdout stays clean). */
  destination?: DestinationStream & { isTTY?: boolean };
  /** Fields on every line (e.g. the node id). */
  base?: Record<string, unknown>;
}

/**
 * The one logger configuration of the platform's processes: structured pino lines, secrets redacted (fields named
 * like credentials by path, credentials inside strings by pattern), pretty at a terminal.
 */
export function createLogger(options: LoggerOptions): Logger {
  const stream = options.destination ?? pino.destination({ fd: 2, sync: true });
  const format = logFormat(options.format, options.destination ?? process.stderr);
  const out =
    format === 'pretty'
      ? pretty({ destination: stream, sync: true, colorize: Boolean((options.destination ?? process.stderr).isTTY), ignore: 'pid,hostname,name', translateTime: 'SYS:HH:MM:ss.l', messageFormat: '{if context}[{context}] {end}{msg}', hideObject: false })
      : stream;
  return pino(
    {
      name: options.name,
      level: logLevel(options.level),
      base: { name: options.name, ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactPaths, censor: REDACTED },
      formatters: {
        level: (label) => ({ level: label }),
      },
      hooks: {
        // Fields, errors, the message and its arguments: a connection string inside an error message is still a
        // secret, and so is a bearer header copied into a field.
        logMethod(args, method) {
          method.apply(this, args.map((a) => scrubSecrets(a)) as Parameters<typeof method>);
        },
      },
      serializers: { err: pino.stdSerializers.err },
    },
    out,
  );
}
