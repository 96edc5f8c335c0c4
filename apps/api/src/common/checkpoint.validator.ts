import { registerDecorator, type ValidationOptions } from 'class-validator';

/** Transaction ids are xid8 (unsigned 64 bits); global positions are bigint (signed 64 bits). */
const MAX_XID8 = 18_446_744_073_709_551_615n;
const MAX_BIGINT = 9_223_372_036_854_775_807n;

/** '<transaction id>:<global position>', each a non-negative integer its Postgres column type can hold. */
export function isCheckpoint(value: unknown): boolean {
  const m = typeof value === 'string' ? /^(\d{1,20}):(\d{1,19})$/.exec(value) : null;
  return m !== null && BigInt(m[1]) <= MAX_XID8 && BigInt(m[2]) <= MAX_BIGINT;
}

/** class-validator decorator for an event-log checkpoint in a query string. */
export function IsCheckpoint(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isCheckpoint',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: { validate: isCheckpoint },
    });
}
