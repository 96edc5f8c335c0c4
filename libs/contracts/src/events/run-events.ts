/** Facts about runs (sessions and streams) as a whole, in the kept stream `runs`: they outlive the runs' own logs. */
import type { EndedRunStatus } from '../api/sessions';
import type { RunKind } from './projections';

/**
 * An operator deleted a finished run (DELETE /api/sessions/:id or /api/streams/:id): its log stream
 * (`session-<runId>` or `stream-<runId>`), its projections' rows and its sessions row are gone; this event is what
 * the platform remembers of it. It carries `runId`, never `sessionId`: the projections would fold it into a summary
 * of the run. Only the operator token may delete, so the deleter is the operator; metadata.node names the API node.
 */
export interface RunDeleted {
  runId: string;
  kind: RunKind;
  /** The status the run had ended with. */
  status: EndedRunStatus;
  modelId: string;
  /** The operator's name for the run ('' when it had none). */
  name: string;
  /** Events the run logged (its log stream's last position; retention may have dropped a stream's oldest days before). */
  events: number;
}
