/**
 * Read checkpoints: `<transaction id>:<global position>`. readAll orders events by that pair, which is the
 * order in which they become safe to read (see the xid8 snapshot rule in docs/events.md).
 */
export interface CheckpointParts {
  transactionId: bigint;
  globalPosition: bigint;
}

/** The checkpoint before the first event. */
export const START_CHECKPOINT = '0:0';

const PATTERN = /^(\d{1,20}):(\d{1,20})$/;

/** Parses a checkpoint string; throws a clear error on anything else. */
export function parseCheckpoint(checkpoint: string): CheckpointParts {
  const m = PATTERN.exec(checkpoint);
  if (!m) throw new Error(`invalid checkpoint '${checkpoint}': expected '<transaction id>:<global position>', e.g. '0:0'`);
  return { transactionId: BigInt(m[1]), globalPosition: BigInt(m[2]) };
}

/** Formats a checkpoint from its parts. */
export function formatCheckpoint(transactionId: bigint | string, globalPosition: bigint | string): string {
  return `${transactionId}:${globalPosition}`;
}

/** Orders two checkpoints: negative when a is earlier. */
export function compareCheckpoints(a: string, b: string): number {
  const pa = parseCheckpoint(a);
  const pb = parseCheckpoint(b);
  if (pa.transactionId !== pb.transactionId) return pa.transactionId < pb.transactionId ? -1 : 1;
  if (pa.globalPosition !== pb.globalPosition) return pa.globalPosition < pb.globalPosition ? -1 : 1;
  return 0;
}
