import { BadRequestException, ConflictException, HttpStatus, Inject, Injectable, NotFoundException, UnprocessableEntityException } from '@nestjs/common';
import {
  answersSample,
  emptySessionSummary,
  MAX_LABELS_PER_REQUEST,
  streamIds,
  type CreateStreamRequest,
  type LabelStreamResponse,
  type NewEvent,
  type SessionEventsPage,
  type SessionStatus,
  type StreamLabel,
  type StreamList,
  type StreamSpec,
  type StreamView,
} from '@ddnn/contracts';
import { classIndexOf } from '@ddnn/datasets';
import { compareCheckpoints, derivedTimedEventId, foldToHead, getSessionSummary, inTransaction, sessionSummariesByIds, type AppendRequest } from '@ddnn/events';
import { LabelsRefused } from './labels-refused';
import { APP_CONFIG, MAX_SESSION_WINDOW, type AppConfig } from '../config/config';
import { Database } from '../database/database';
import { appendThroughOutages } from '../orchestrator/append-retry';
import { DatasetCatalog } from '../orchestrator/dataset-catalog';
import { ModelCatalog } from '../orchestrator/model-catalog';
import { SessionStore } from '../orchestrator/session-store';
import { StreamEventLog } from '../orchestrator/stream-event-log';
import { streamSpecProblem, streamWindow } from '../orchestrator/stream-runner';
import { SessionRunsRepository } from '../sessions/session-runs.repository';
import { SessionsService, withRun, withSummary } from '../sessions/sessions.service';

/** The longest time window one events request may name (the retention horizon of a week, and then some). */
export const MAX_EVENT_WINDOW_DAYS = 31;

/** A validated events window: from < to, both given or either, and at most MAX_EVENT_WINDOW_DAYS long. */
export function eventWindow(from: string | undefined, to: string | undefined): { from?: Date; to?: Date } {
  const f = from === undefined ? undefined : new Date(from);
  const t = to === undefined ? undefined : new Date(to);
  if (f && Number.isNaN(f.getTime())) throw new BadRequestException('from is not a valid instant');
  if (t && Number.isNaN(t.getTime())) throw new BadRequestException('to is not a valid instant');
  if (f && t) {
    if (t.getTime() <= f.getTime()) throw new BadRequestException('to must be after from');
    if (t.getTime() - f.getTime() > MAX_EVENT_WINDOW_DAYS * 86_400_000) throw new BadRequestException(`a window is at most ${MAX_EVENT_WINDOW_DAYS} days long`);
  }
  return { ...(f ? { from: f } : {}), ...(t ? { to: t } : {}) };
}

/** How far ahead of the newest logged sample a label may name one (a minute of samples, at least 100). */
const labelAhead = (rate: number) => Math.max(100, Math.ceil(rate * 60));
/**
 * How far behind the newest logged sample an undecided one may still be decided: the samples in flight are the
 * newest started ones, at most the stream's window of them on whichever node runs it. An undecided sample further
 * behind never will be (retention dropped it, or a node taking the stream over skipped it): a label for it would
 * wait in the summary and the rollup for ever, so it is refused.
 */
export const labelBehind = (rate: number) => streamWindow(MAX_SESSION_WINDOW, rate);

/**
 * Production streams as operators see them: create, list, inspect, stop, read their events and label their
 * samples after the fact. A stream is a run of the sessions table the same scheduler owns, resumes and takes
 * over; its events are in log stream `stream-<id>`.
 */
@Injectable()
export class StreamsService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly store: SessionStore,
    private readonly log: StreamEventLog,
    private readonly models: ModelCatalog,
    private readonly datasets: DatasetCatalog,
    private readonly db: Database,
    private readonly runs: SessionRunsRepository,
    private readonly sessions: SessionsService,
  ) {}

  private get tolerance(): number {
    return this.config.DDNN_CAPTURE_TOLERANCE_MS;
  }

  async create(spec: CreateStreamRequest): Promise<{ id: string }> {
    const problem = await this.problemWith(spec);
    if (problem) throw new BadRequestException(problem);
    await this.sessions.refuseBusyDevices(spec);
    const configuration = await this.sessions.configurationOf({ topology: spec.topology, simulationId: spec.simulationId, rate: spec.rate });
    const stored: StreamSpec = { ...spec, mode: spec.mode ?? 'production', configuration };
    const id = await this.store.createStream(stored);
    await this.sessions.launch(id, spec);
    return { id };
  }

  private async problemWith(spec: CreateStreamRequest): Promise<string | null> {
    const model = await this.models.describe(spec.modelId).catch((e: Error) => e);
    if (model instanceof Error) return model.message;
    let replayClasses: string[] | undefined;
    if (spec.replay) {
      const data = await this.datasets.describe(spec.replay.dataset).catch((e: Error) => e);
      if (data instanceof Error) return `replay: ${data.message}`;
      if (data.splits[spec.replay.split] === 0) return `replay: dataset ${spec.replay.dataset} has no ${spec.replay.split} samples`;
      replayClasses = data.classes;
    }
    const problem = streamSpecProblem(spec, model, replayClasses) ?? this.sessions.liveSourceProblem(spec);
    if (problem) return problem;
    return this.sessions.newRunProblem(spec);
  }

  async list(q: { status?: SessionStatus; limit: number; offset: number }): Promise<StreamList> {
    const { items, total } = await this.store.listStreams(q, this.tolerance);
    const ids = items.map((v) => v.id);
    const [meta, summaries] = await Promise.all([this.runs.many(ids), sessionSummariesByIds(this.db.pool, ids)]);
    return { items: items.map((v) => withRun(withSummary(v, summaries.get(v.id) ?? null), meta.get(v.id))), total, limit: q.limit, offset: q.offset };
  }

  async get(id: string): Promise<StreamView | null> {
    const view = await this.store.getStream(id, this.tolerance);
    if (!view) return null;
    const [summary, meta] = await Promise.all([this.log.summary(id, SessionStore.isFinal(view.status)), this.runs.get(id)]);
    return withRun(withSummary(view, summary), meta);
  }

  async stop(id: string): Promise<StreamView | null> {
    const status = await this.store.requestStop(id, 'stream');
    if (status === null) return null;
    return this.get(id);
  }

  async events(id: string, q: { after?: string; limit: number; from?: Date; to?: Date }): Promise<SessionEventsPage | null> {
    if (!(await this.store.getStream(id, this.tolerance))) return null;
    return this.log.page(id, q);
  }

  /**
   * Logs labels of a stream's samples (SampleLabelled, one per sample: its event id is derived from the sample,
   * so a label is written once however often, and from however many nodes, it is posted). Everything is checked
   * before anything is logged: a malformed or contradictory request changes nothing.
   */
  async label(id: string, labels: StreamLabel[]): Promise<LabelStreamResponse> {
    if (!Array.isArray(labels) || labels.length === 0 || labels.length > MAX_LABELS_PER_REQUEST) {
      throw new BadRequestException(`the body must be a JSON array of 1 to ${MAX_LABELS_PER_REQUEST} {sampleIndex, label} objects`);
    }
    const view = await this.store.getStream(id, this.tolerance);
    if (!view) throw new NotFoundException(`no stream ${id}`);
    // Its log is going: a label logged now would be deleted with it, or outlive it in a stream of its own.
    if (view.deletingSince) throw beingDeleted(id);
    const { classes } = await this.models.describe(view.modelId).catch(() => {
      throw new UnprocessableEntityException(`stream ${id}: its model ${view.modelId} is gone, so its classes are unknown`);
    });
    const wanted = new Map<number, number>();
    labels.forEach((l, i) => {
      const cls = classOf(l.label, classes);
      if (cls === null) throw new BadRequestException(`[${i}].label: unknown class ${JSON.stringify(l.label)} (classes: ${classes.map((c, k) => `${k}=${c}`).join(', ')})`);
      const before = wanted.get(l.sampleIndex);
      if (before !== undefined && before !== cls) throw new BadRequestException(`[${i}]: sample ${l.sampleIndex} is given two different labels in this request`);
      wanted.set(l.sampleIndex, cls);
    });
    const stream = streamIds.stream(id);
    const indices = [...wanted.keys()];
    // The named samples' decisions and labels (by the sample index), and the stream's summary from its stored
    // projection on (for the newest sample): nothing else of the stream is read, however long it has run.
    const [decisions, unansweredEvents, existing, summary] = await Promise.all([
      this.log.store.samplePayloads(stream, 'ExitDecided', indices),
      this.log.store.samplePayloads(stream, 'SampleUnanswered', indices),
      this.log.store.samplePayloads(stream, 'SampleLabelled', indices),
      getSessionSummary(this.db.pool, id).then((stored) => foldToHead(this.log.store, stream, stored ?? emptySessionSummary(id))),
    ]);
    const decided = new Map(decisions.filter((d) => answersSample(d.data)).map((d) => [d.data.sampleIndex, { tier: d.data.tier, prediction: d.data.prediction }]));
    // Nothing answered them: nothing to count a label against, so nothing is logged (it would wait for ever).
    const unanswered = new Set(unansweredEvents.map((u) => u.data.sampleIndex));
    const labelled = new Map(existing.map((e) => [e.data.sampleIndex, e.data.label]));
    const conflicts = indices.filter((i) => labelled.has(i) && labelled.get(i) !== wanted.get(i));
    if (conflicts.length) {
      throw new LabelsRefused(HttpStatus.CONFLICT, `sample(s) ${conflicts.slice(0, 20).join(', ')} already have a different label (labels are final; nothing was logged)`, conflicts);
    }
    const final = SessionStore.isFinal(view.status);
    const horizon = (summary.lastSampleIndex ?? -1) + labelAhead(view.rate);
    const unknown = indices.filter((i) => !decided.has(i) && !unanswered.has(i) && (final || i > horizon));
    if (unknown.length) {
      throw new LabelsRefused(
        HttpStatus.UNPROCESSABLE_ENTITY,
        `unknown sample index(es) ${unknown.slice(0, 20).join(', ')}: ` +
          (final ? `stream ${id} is ${view.status} and never decided them` : `beyond the newest sample (${summary.lastSampleIndex ?? 'none yet'}) by more than ${labelAhead(view.rate)}`),
        unknown,
      );
    }
    const behind = (summary.lastSampleIndex ?? -1) - labelBehind(view.rate);
    const gone = indices.filter((i) => !decided.has(i) && !unanswered.has(i) && i < behind);
    if (gone.length) {
      throw new LabelsRefused(
        HttpStatus.UNPROCESSABLE_ENTITY,
        `sample index(es) ${gone.slice(0, 20).join(', ')} are not in the log and never will be: more than ${labelBehind(view.rate)} behind the newest sample ` +
          `(${summary.lastSampleIndex}), so retention dropped them or the stream skipped them (nothing was logged)`,
        gone,
      );
    }
    const labelledAt = Date.now();
    const fresh = indices.filter((i) => !labelled.has(i) && !unanswered.has(i));
    const requests = fresh.map((i) => {
      const decision = decided.get(i);
      const event: NewEvent = {
        type: 'SampleLabelled',
        // A labels request that races another (or is retried) within the hour writes each label once.
        eventId: derivedTimedEventId(`label:${id}:${i}`, labelledAt),
        data: { sessionId: id, sampleIndex: i, label: wanted.get(i) as number, labelledAt, ...(decision ? { decision } : {}) },
      };
      return { streamId: stream, events: [event] };
    });
    const outcomes = requests.length ? await appendThroughOutages(() => this.appendLabels(id, requests), this.db.outageLimitMs, () => undefined) : [];
    const raced: number[] = [];
    // The newest of this request's own appends: the summary returned must include it (read-after-write).
    let through: string | undefined;
    outcomes.forEach((o, k) => {
      if (!o.ok) throw o.error;
      if (o.result.duplicate) raced.push(fresh[k]);
      for (const e of o.result.events) if (through === undefined || compareCheckpoints(e.checkpoint, through) > 0) through = e.checkpoint;
    });
    if (raced.length) {
      // Another request labelled the same samples between our check and our append: it won; say so if it differs.
      const now = await this.log.store.samplePayloads(stream, 'SampleLabelled', raced);
      const differing = now.filter((e) => e.data.label !== wanted.get(e.data.sampleIndex)).map((e) => e.data.sampleIndex);
      if (differing.length) throw new LabelsRefused(HttpStatus.CONFLICT, `sample(s) ${differing.join(', ')} were just labelled differently by another request`, differing);
    }
    const after = await foldToHead(this.log.store, stream, summary, { through });
    return {
      results: indices.map((i) => ({
        sampleIndex: i,
        label: wanted.get(i) as number,
        status: labelled.has(i) || raced.includes(i) ? 'unchanged' : unanswered.has(i) ? 'unanswered' : decided.has(i) ? 'labelled' : 'pending',
      })),
      accuracy: after.accuracy,
      labelled: after.labelled,
    };
  }

  /**
   * Appends a request's labels in a transaction that holds the stream's row (FOR SHARE) while it is not being
   * deleted. A deletion marks the row first (an update, which waits for this lock), so a label is either logged
   * before the mark, and deleted with the log, or refused: never appended after the log is gone, where it would
   * start a stream of its own that nothing removes.
   */
  private appendLabels(id: string, requests: AppendRequest[]) {
    return inTransaction(this.db.pool, async (tx) => {
      const { rows } = await tx.query<{ deleting: boolean }>('SELECT deletion_requested_at IS NOT NULL AS deleting FROM sessions WHERE id = $1 FOR SHARE', [id]);
      if (!rows.length) throw new NotFoundException(`no stream ${id}: it was deleted meanwhile (nothing was logged)`);
      if (rows[0].deleting) throw beingDeleted(id);
      return this.db.store.appendBatch(requests, tx);
    });
  }
}

/** A labels request for a stream whose deletion was asked for, whether seen before its reads or at its append. */
const beingDeleted = (id: string) => new ConflictException(`stream ${id} is being deleted: its labels are no longer taken (nothing was logged)`);

/** A class index within the model's classes, or a class name (compared NFC-normalized); null when it is neither. */
export function classOf(label: unknown, classes: string[]): number | null {
  if (typeof label === 'number') return Number.isInteger(label) && label >= 0 && label < classes.length ? label : null;
  if (typeof label === 'string') {
    const i = classIndexOf(classes, label);
    return i >= 0 ? i : null;
  }
  return null;
}
