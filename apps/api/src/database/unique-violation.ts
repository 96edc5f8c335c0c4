import { QueryFailedError } from 'typeorm';

/** Whether a write failed on a unique constraint (Postgres 23505), and on `constraint` when one is named. */
export function isUniqueViolation(e: unknown, constraint?: string): boolean {
  if (!(e instanceof QueryFailedError)) return false;
  const driver = e.driverError as { code?: string; constraint?: string } | undefined;
  return driver?.code === '23505' && (constraint === undefined || driver.constraint === constraint);
}
