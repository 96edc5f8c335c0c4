const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Whether a string is a UUID, the form of every device, profile, session, stream and event id. Checked before an id
 * from a request reaches a uuid column: Postgres answers anything else with an error (a 500), not with no row.
 */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}
