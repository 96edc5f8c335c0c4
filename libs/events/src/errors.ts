/** The stream was not at the expected version: someone else appended first (optimistic concurrency). */
export class ConcurrencyError extends Error {
  override readonly name = 'ConcurrencyError';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedVersionLike,
    /** The stream's position when the append was refused (0 = no events yet). */
    readonly actual: number,
  ) {
    super(`stream ${streamId}: expected version ${String(expected)}, but it is at ${actual}`);
  }
}

/** Some, not all, event ids of an append were already stored (or stored in another stream): not a safe retry. */
export class EventIdReuseError extends Error {
  override readonly name = 'EventIdReuseError';
  constructor(readonly streamId: string) {
    super(
      `stream ${streamId}: some event ids of this append are already stored, but not all of them in this stream; ` +
        'a retry must resend exactly the same events',
    );
  }
}

/** A stored event cannot be brought to the current schema version. */
export class UpcastError extends Error {
  override readonly name = 'UpcastError';
}

/** A schema migration failed; `migration` names it. */
export class MigrationFailedError extends Error {
  override readonly name = 'MigrationFailedError';
  constructor(
    readonly migration: string,
    cause: unknown,
  ) {
    super(`migration ${migration} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

type ExpectedVersionLike = number | 'any' | 'no_stream' | 'stream_exists';
