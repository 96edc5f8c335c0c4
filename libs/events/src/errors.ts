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

/**
 * The append carried a fencing token that is no longer the stream's (another writer took the stream over: see
 * EventStore.takeFence): nothing of it was written, and a retry is refused alike.
 */
export class FencedAppendError extends Error {
  override readonly name = 'FencedAppendError';
  constructor(
    readonly streamId: string,
    readonly fence: number,
    /** The stream's token now (null: none was ever taken). */
    readonly current: number | null,
  ) {
    super(`stream ${streamId}: fence ${fence} is stale (the stream's is ${current ?? 'none'}): another writer owns it now`);
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
