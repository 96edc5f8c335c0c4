import { UnavailableError } from '@ddnn/contracts';

/**
 * The database cannot be reached (refused, dropped, restarting, out of connections): the caller's work may
 * succeed later. HTTP maps it to 503; a session's appends retry it until the outage limit.
 */
export class DatabaseUnavailableError extends UnavailableError {
  constructor(message = 'the database is unavailable', options?: { cause?: unknown }) {
    super(message, options);
  }
}

// SQLSTATE classes and codes that say "the connection or the server went away", not "the query is wrong":
// 08 connection exception, 57P01-57P03 admin/crash shutdown and "cannot connect now", 53300 too many connections.
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
// Codes that say "unavailable" only when the server refuses a new connection with them: 55000 "database is not
// currently accepting connections" (ALLOW_CONNECTIONS false, as during a restore) and 3D000 "database does not
// exist" (dropped or renamed under a running node: start-up ran the migrations in it). 55000 is also the error of a
// statement in the wrong state, and 3D000 of a wrong database name in a statement: those are the query's fault.
// A refusal is raised by the backend's start-up (postinit.c) and ends the session (FATAL; the severity is
// localized, the file name is not).
const CONNECT_SQLSTATES = new Set(['55000', '3D000']);
const NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
// node-postgres reports a socket that closed under a query or a checkout that timed out with plain Errors and
// no code; these are its fixed messages (pg 8: client.js, pg-pool).
const PG_MESSAGES = [
  'Connection terminated',
  'Client has encountered a connection error',
  'timeout exceeded when trying to connect',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool',
];

/** True when `e` (or what it wraps: TypeORM's driverError, an Error's cause) says the database is unreachable. */
export function isDatabaseUnavailable(e: unknown): boolean {
  for (let x: unknown = e, depth = 0; x && typeof x === 'object' && depth < 5; depth++) {
    if (x instanceof DatabaseUnavailableError) return true;
    const err = x as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown; errors?: unknown; file?: unknown; severity?: unknown };
    if (typeof err.code === 'string' && (err.code.startsWith('08') || SQLSTATES.has(err.code) || NODE_CODES.has(err.code))) return true;
    if (typeof err.code === 'string' && CONNECT_SQLSTATES.has(err.code) && (err.file === 'postinit.c' || err.severity === 'FATAL')) return true;
    if (typeof err.message === 'string' && PG_MESSAGES.some((m) => (err.message as string).startsWith(m))) return true;
    // AggregateError (a connect that tried several addresses) holds the socket errors.
    if (Array.isArray(err.errors) && err.errors.some((inner) => isDatabaseUnavailable(inner))) return true;
    x = err.driverError ?? err.cause;
  }
  return false;
}
