import type {
  AlertListQuery,
  AlertListResponse,
  AlertRuleView,
  AlertView,
  CreateAlertRuleRequest,
  CreateWebhookRequest,
  WebhookCreatedResponse,
  WebhookDeliveryListResponse,
  WebhookView,
  CompareRequest,
  CompareRequestOptions,
  CompareResponse,
  CreateProfileRequest,
  CreateSessionRequest,
  CreateSessionResponse,
  CreateSimulationRequest,
  DatasetView,
  SampleViews,
  SampleWindow,
  UpdateSessionRequest,
  DeviceHistoryEntry,
  DeviceList,
  DeviceListQuery,
  DeviceView,
  HealthResponse,
  LinkModel,
  SweepResult,
  ThresholdStatistic,
  DatasetDetails,
  ModelView,
  ProfileCreatedResponse,
  ProfileView,
  ProvisionDeviceResponse,
  SessionEventsPage,
  SessionList,
  SessionListQuery,
  SessionView,
  SimulationView,
  StreamList,
  StreamListQuery,
  StreamView,
  UpdateDeviceRequest,
} from '@ddnn/contracts';
import { clearToken, getToken } from './auth';

/** An HTTP error with the server's message (Nest puts it in `message`, a string or a list). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly path: string,
  ) {
    super(message);
  }

  /**
   * A 404 of a route the API does not have (an API older than the dashboard), apart from a 404 of a resource
   * that does not exist on a route it has (`no device x`). Nest words the former `Cannot GET /api/...`, and
   * the platform's error filter passes that message on as it is.
   */
  get routeMissing(): boolean {
    return this.status === 404 && /^Cannot [A-Z]+ \//.test(this.message);
  }

  /** A 404 of something the API looked for and did not find (deleted, or a wrong id in the address). */
  get notFound(): boolean {
    return this.status === 404 && !this.routeMissing;
  }
}

async function messageOf(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { message?: string | string[]; error?: string };
    const m = Array.isArray(body.message) ? body.message.join('; ') : body.message;
    return m || body.error || `${res.status} ${res.statusText}`;
  } catch {
    return text.trim().slice(0, 300) || `${res.status} ${res.statusText}`;
  }
}

/** Calls the API with the operator token; a 401 signs the operator out with a message. */
async function send(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const token = getToken();
  if (token) headers.set('Authorization', `Bearer ${token}`);
  if (init.body && !(init.body instanceof FormData) && !headers.has('Content-Type')) headers.set('Content-Type', 'application/json');
  let res: Response;
  try {
    res = await fetch(path, { ...init, headers });
  } catch (e) {
    throw new ApiError(0, `cannot reach the API (${e instanceof Error ? e.message : String(e)})`, path);
  }
  if (res.status === 401) {
    const message = await messageOf(res);
    clearToken(`The API refused the token (${message}). Sign in again with the token npm start printed.`);
    throw new ApiError(401, message, path);
  }
  if (!res.ok) throw new ApiError(res.status, await messageOf(res), path);
  return res;
}

/** A JSON endpoint of the API. */
export async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await send(path, init);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** Builds `?a=1&b=2` from the defined values. */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

const post = (body: unknown): RequestInit => ({ method: 'POST', body: JSON.stringify(body) });

/** A run's DELETE: gone (204), or accepted and going on in the background (202: the run shows `deletingSince`). */
async function deleteRun(path: string): Promise<'deleted' | 'deleting'> {
  return (await send(path, { method: 'DELETE' })).status === 202 ? 'deleting' : 'deleted';
}

/** The REST endpoints the dashboard uses (apps/api, /api prefix). */
export const api = {
  health: () => request<HealthResponse>('/api/health'),
  devices: (q: DeviceListQuery) => request<DeviceList>(`/api/devices${query({ ...q })}`),
  updateDevice: (id: string, body: UpdateDeviceRequest) =>
    request<DeviceView>(`/api/devices/${encodeURIComponent(id)}`, { method: 'PATCH', body: JSON.stringify(body) }),
  profiles: () => request<ProfileView[]>('/api/profiles'),
  createProfile: (body: CreateProfileRequest) => request<ProfileCreatedResponse>('/api/profiles', post(body)),
  device: (id: string) => request<DeviceView>(`/api/devices/${encodeURIComponent(id)}`),
  rotateDeviceToken: (id: string) => request<ProvisionDeviceResponse>(`/api/devices/${encodeURIComponent(id)}/rotate-token`, { method: 'POST' }),
  revokeDeviceToken: (id: string) => request<DeviceView>(`/api/devices/${encodeURIComponent(id)}/revoke-token`, { method: 'POST' }),
  deviceHistory: (id: string) => request<DeviceHistoryEntry[]>(`/api/devices/${encodeURIComponent(id)}/history`),
  deleteDevice: (id: string) => request<void>(`/api/devices/${encodeURIComponent(id)}`, { method: 'DELETE' }),
  models: () => request<ModelView[]>('/api/models'),
  datasets: () => request<DatasetView[]>('/api/datasets'),
  datasetDetails: (name: string) => request<DatasetDetails>(`/api/datasets/${encodeURIComponent(name)}/summary`),
  datasetSheet: (name: string) => send(`/api/datasets/${encodeURIComponent(name)}/sheet.png`).then((r) => r.blob()),
  /** POST /api/models/upload: a checkpoint archive as multipart field `archive`; `name` overrides its manifest's. */
  uploadModel: (archive: File, { id, name }: { id?: string; name?: string } = {}) => {
    const form = new FormData();
    form.set('archive', archive);
    if (id) form.set('id', id);
    if (name) form.set('name', name);
    return request<ModelView>('/api/models/upload', { method: 'POST', body: form });
  },
  /** Which views of a sample the cameras captured (the replay asks for those images only). */
  sampleViews: (dataset: string, sampleId: string) => request<SampleViews>(`/api/datasets/${encodeURIComponent(dataset)}/samples/${encodeURIComponent(sampleId)}`),
  sessions: (q: SessionListQuery) => request<SessionList>(`/api/sessions${query({ ...q })}`),
  updateSession: (id: string, body: UpdateSessionRequest) =>
    request<SessionView>(`/api/sessions/${encodeURIComponent(id)}`, { method: 'PATCH', body: JSON.stringify(body) }),
  session: (id: string) => request<SessionView>(`/api/sessions/${encodeURIComponent(id)}`),
  createSession: (body: CreateSessionRequest) => request<CreateSessionResponse>('/api/sessions', post(body)),
  stopSession: (id: string) => request<SessionView>(`/api/sessions/${encodeURIComponent(id)}/stop`, { method: 'POST' }),
  /** An ended session with its whole log (204; 202 while a long log is still going; 409 while it is queued or running). */
  deleteSession: (id: string) => deleteRun(`/api/sessions/${encodeURIComponent(id)}`),
  sessionEvents: (id: string, after: string | null, limit = 500) =>
    request<SessionEventsPage>(`/api/sessions/${encodeURIComponent(id)}/events${query({ after, limit })}`),
  streams: (q: StreamListQuery) => request<StreamList>(`/api/streams${query({ ...q })}`),
  stream: (id: string) => request<StreamView>(`/api/streams/${encodeURIComponent(id)}`),
  stopStream: (id: string) => request<StreamView>(`/api/streams/${encodeURIComponent(id)}/stop`, { method: 'POST' }),
  /** A stopped or failed stream with its whole log (204; 202 while a long log is still going; 409 while it is queued or running). */
  deleteStream: (id: string) => deleteRun(`/api/streams/${encodeURIComponent(id)}`),
  /** A page of a stream's log, optionally only the events logged in [from, to) (ISO instants). */
  streamEvents: (id: string, after: string | null, window: { from?: string; to?: string } = {}, limit = 1000) =>
    request<SessionEventsPage>(`/api/streams/${encodeURIComponent(id)}/events${query({ after, limit, ...window })}`),
  simulations: () => request<SimulationView[]>('/api/simulations'),
  createSimulation: (body: CreateSimulationRequest) => request<SimulationView>('/api/simulations', post(body)),
  compare: (body: CompareRequest & CompareRequestOptions) => request<CompareResponse>('/api/analysis/compare', post(body)),
  /** The threshold curve of a run, on a window of its samples when given (a stream needs one). */
  sweep: (sessionId: string, policy: ThresholdStatistic, points: number, linkModel?: LinkModel, window?: SampleWindow) =>
    request<SweepResult>(
      `/api/analysis/sweep${query({ sessionId, policy, points, linkModel: linkModel ? JSON.stringify(linkModel) : undefined, fromSample: window?.fromSample, toSample: window?.toSample })}`,
    ),
  alerts: (q: AlertListQuery) => request<AlertListResponse>(`/api/alerts${query({ ...q })}`),
  acknowledgeAlert: (id: string, note?: string) => request<AlertView>(`/api/alerts/${encodeURIComponent(id)}/acknowledge`, post({ note })),
  silenceAlert: (id: string, until: string) => request<AlertView>(`/api/alerts/${encodeURIComponent(id)}/silence`, post({ until })),
  alertRules: () => request<AlertRuleView[]>('/api/alert-rules'),
  createAlertRule: (body: CreateAlertRuleRequest) => request<AlertRuleView>('/api/alert-rules', post(body)),
  updateAlertRule: (id: string, body: CreateAlertRuleRequest) =>
    request<AlertRuleView>(`/api/alert-rules/${encodeURIComponent(id)}`, { method: 'PUT', body: JSON.stringify(body) }),
  deleteAlertRule: (id: string) => request<void>(`/api/alert-rules/${encodeURIComponent(id)}`, { method: 'DELETE' }),
  webhooks: () => request<WebhookView[]>('/api/webhooks'),
  createWebhook: (body: CreateWebhookRequest) => request<WebhookCreatedResponse>('/api/webhooks', post(body)),
  deleteWebhook: (id: string) => request<void>(`/api/webhooks/${encodeURIComponent(id)}`, { method: 'DELETE' }),
  webhookDeliveries: (id: string) => request<WebhookDeliveryListResponse>(`/api/webhooks/${encodeURIComponent(id)}/deliveries?limit=20`),
  /** One camera view of a sample (operators only, so fetched with the token rather than by an <img> URL). */
  viewImage: (dataset: string, sampleId: string, view: number) =>
    send(`/api/datasets/${encodeURIComponent(dataset)}/samples/${encodeURIComponent(sampleId)}/views/${view}.png`).then((r) => r.blob()),
};

/** A run by id, whichever it is: a session, else a stream (an id is one or the other); a 404 when it is neither. */
export async function sessionOrStream(id: string): Promise<{ kind: 'session'; view: SessionView } | { kind: 'stream'; view: StreamView }> {
  try {
    return { kind: 'session', view: await api.session(id) };
  } catch (e) {
    if (!(e instanceof ApiError && e.notFound)) throw e;
    const stream = await api.stream(id).catch((s: unknown) => {
      throw s instanceof ApiError && s.notFound ? new ApiError(404, `no session or stream ${id}`, e.path) : s;
    });
    return { kind: 'stream', view: stream };
  }
}

/** Every event of a session, page by page (the replay reads the whole log once). */
export async function allSessionEvents(id: string, onPage?: (loaded: number) => void): Promise<SessionEventsPage['events']> {
  const events: SessionEventsPage['events'] = [];
  let after: string | null = null;
  for (;;) {
    const page: SessionEventsPage = await api.sessionEvents(id, after, 1000);
    events.push(...page.events);
    onPage?.(events.length);
    if (!page.hasMore || page.events.length === 0) return events;
    after = page.checkpoint;
  }
}

/** At most this many events of a stream window are read into the browser (about 3 000 samples). */
export const STREAM_WINDOW_EVENT_CAP = 30_000;

/** A stream's events logged in a window, page by page, up to STREAM_WINDOW_EVENT_CAP (then `truncated`). */
export async function streamWindowEvents(id: string, window: { from?: string; to?: string }): Promise<{ events: SessionEventsPage['events']; truncated: boolean }> {
  const events: SessionEventsPage['events'] = [];
  let after: string | null = null;
  for (;;) {
    const page: SessionEventsPage = await api.streamEvents(id, after, window, 1000);
    events.push(...page.events);
    if (!page.hasMore || page.events.length === 0) return { events, truncated: false };
    if (events.length >= STREAM_WINDOW_EVENT_CAP) return { events, truncated: true };
    after = page.checkpoint;
  }
}

/**
 * At most this many events of a stream are read for one window of its samples (only the window's are kept): four
 * hours or so of a six-camera stream at 2 samples/s (about six events a sample) after the window began.
 */
export const STREAM_SAMPLES_READ_CAP = 200_000;

/**
 * The events of a window of a stream's samples, whenever logged (labels that came later too), with its start:
 * the log is read from `since` (a moment before the window's first sample began) to its head, keeping only what
 * `keep` wants. `readTo` is the instant of the newest event read: short of the head once STREAM_SAMPLES_READ_CAP
 * events were read (`truncated`), so later labels are not in.
 */
export async function streamSampleEvents(
  id: string,
  since: string | undefined,
  keep: (e: SessionEventsPage['events'][number]) => boolean,
): Promise<{ events: SessionEventsPage['events']; truncated: boolean; readTo: string | null }> {
  const head = await api.streamEvents(id, null, {}, 1);
  const start = head.events.filter((e) => e.type === 'StreamStarted');
  const events: SessionEventsPage['events'] = [];
  let read = 0;
  let readTo: string | null = null;
  let after: string | null = null;
  for (;;) {
    const page: SessionEventsPage = await api.streamEvents(id, after, since ? { from: since } : {}, 1000);
    read += page.events.length;
    for (const e of page.events) if (e.type !== 'StreamStarted' && keep(e)) events.push(e);
    if (page.events.length) readTo = page.events[page.events.length - 1].createdAt;
    if (!page.hasMore || page.events.length === 0) return { events: [...start, ...events], truncated: false, readTo };
    if (read >= STREAM_SAMPLES_READ_CAP) return { events: [...start, ...events], truncated: true, readTo };
    after = page.checkpoint;
  }
}
