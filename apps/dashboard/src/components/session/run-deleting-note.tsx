import type { RunKind } from '@ddnn/contracts';
import { fmtTime } from '../../lib/format';

/** On the page of a run being deleted (its DELETE answered 202): what is going on, and that the page goes with it. */
export function RunDeletingNote({ kind, since }: { kind: RunKind; since: string }) {
  return (
    <div className="note" data-testid="run-deleting">
      Being deleted since {fmtTime(since)}: its log, summary and metrics are going (a long log takes minutes), and this {kind} is
      gone once they are.
    </div>
  );
}
