import { registerDecorator, type ValidationOptions } from 'class-validator';

/** Postgres bigint's largest value: transaction ids and global positions never exceed it. */
const MAX_BIGINT = 9_223_372_036_854_775_807n;

/** '<transaction id>:<global position>', each a non-negative integer that fits a Postgres bigint. */
export function isCheckpoint(value: unknown): boolean {
  if (typeof value !== 'string' || !/^\d{1,19}:\d{1,19}$/.test(value)) return false;
  return value.split(':').every((part) => BigInt(part) <= MAX_BIGINT);
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
