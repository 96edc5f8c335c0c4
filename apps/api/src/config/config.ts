import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_CAPTURE_TOLERANCE_MS } from '@ddnn/contracts';
import { REDACTED, scrubSecrets } from '@ddnn/logging';
import { repoRoot } from '../common/repo-root';

const port = z.coerce.number().int().min(1).max(65535);

/** A URL the drivers will parse: the scheme check alone let `postgres://u:p@h:notaport/db` through to a stack trace. */
function isUrl(value: string): boolean {
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}
const serviceUrl = (scheme: RegExp, what: string) =>
  z.string().regex(scheme, `must be a ${what} URL`).refine(isUrl, 'is not a valid URL (check its host, port and escaping)');
/** The most samples in flight DDNN_SESSION_WINDOW allows a run on any node (a stream may keep more: streamWindow). */
export const MAX_SESSION_WINDOW = 256;

/** Every environment variable the API reads; README "Configuration" documents the same table. */
const schema = z.object({
  PORT: port.default(3000),
  HOST: z.string().min(1).default('localhost'),
  DATABASE_URL: serviceUrl(/^postgres(ql)?:\/\//, 'postgres://').optional(),
  DDNN_DATA_DIR: z.string().min(1).default(path.join(repoRoot(), '.data')),
  DDNN_DASHBOARD_DIR: z.string().min(1).default(path.join(repoRoot(), 'apps', 'dashboard', 'out')),
  // Unset: pretty at a terminal, JSON lines otherwise (@ddnn/logging).
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  LOG_LEVEL: z.enum(['error', 'warn', 'log', 'debug', 'verbose']).default('log'),
  // Sessions (apps/api/src/orchestrator): samples in flight per session (a stream keeps at least half a second of
  // its rate in flight, streamWindow), sessions per node, how often a node looks for sessions to pick up;
  // DDNN_DEMO=false skips npm start's demo session.
  DDNN_SESSION_WINDOW: z.coerce.number().int().min(1).max(MAX_SESSION_WINDOW).default(32),
  DDNN_MAX_SESSIONS: z.coerce.number().int().min(1).max(64).default(4),
  DDNN_SESSION_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(2000),
  // Streams: a device capture farther than this from its trigger time is a skipped (stale) capture, so the
  // samples of one trigger show the same moment on every camera.
  DDNN_CAPTURE_TOLERANCE_MS: z.coerce.number().int().min(1).max(60_000).default(DEFAULT_CAPTURE_TOLERANCE_MS),
  // Database (apps/api/src/database): the node's one pool, and how long a session's appends retry through an
  // outage before the session stops as interrupted (to resume when the database is back).
  DDNN_DB_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(20),
  DDNN_DB_OUTAGE_LIMIT_MS: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
  // How long a starting or resuming session waits for its devices to (re)connect before running without them.
  DDNN_DEVICE_WAIT_MS: z.coerce.number().int().min(0).max(600_000).default(30_000),
  // The event log's upkeep (apps/api/src/retention): days of stream events kept (0: all), how often partitions are
  // checked and retention applied, and how many days of partitions are created ahead of today.
  DDNN_STREAM_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(0),
  DDNN_RETENTION_INTERVAL_MS: z.coerce.number().int().min(1000).max(86_400_000).default(3_600_000),
  DDNN_STREAM_PARTITION_DAYS_AHEAD: z.coerce.number().int().min(1).max(60).default(3),
  // Deleting a run (apps/api/src/sessions/run-deletion.service.ts): how long DELETE waits for it before answering
  // 202 and going on in the background, and how often a node looks for deletions whose node died, to resume them.
  DDNN_RUN_DELETION_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(5000),
  DDNN_RUN_DELETION_RESUME_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  DDNN_DEMO: z
    .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
  // The demo's live stream over the moving scene (samples per second; 0: no demo stream).
  DDNN_DEMO_STREAM_RATE: z.coerce.number().min(0).max(50).default(2),
  // The exit threshold of the demo's session and stream. Not the model's own: models/default's validation picks
  // T = 1 (the cheapest point of its frontier: every sample exits locally), and a demo with one tier at work shows
  // nothing of the hierarchy; 0.8 is the paper's T and on the default model's test frontier too (94.7% at 130 B).
  DDNN_DEMO_THRESHOLD: z.coerce.number().min(0).max(1).default(0.8),
  DDNN_DEMO_DATASET: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a dataset folder name').default('synthetic-multicam-seed1'),
  REDIS_URL: serviceUrl(/^rediss?:\/\//, 'redis://').optional(),
  // Redis pub/sub channels ignore the database number: platforms sharing one Redis need their own prefix.
  DDNN_REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, 'must be 1-64 letters, digits, . _ : -').default('ddnn'),
  DDNN_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  DEVICE_INACTIVE_TIMEOUT_MS: z.coerce.number().int().min(1000).default(30_000),
  DEVICE_HEARTBEAT_INTERVAL_MS: z.coerce.number().int().min(100).default(5_000),
  // socket.io connections one remote address may hold at once (devices behind one NAT share an address): 15,000
  // tokenless connections had held most of the API's file descriptors.
  DDNN_SOCKET_MAX_PER_ADDRESS: z.coerce.number().int().min(1).max(100_000).default(512),
  DDNN_DEFAULT_MODEL_DIR: z.string().min(1).default(path.join(repoRoot(), 'models', 'default')),
  DDNN_SIMULATED_DEVICES: z.coerce.number().int().min(0).max(64).default(0),
  DDNN_NODE_ID: z.string().min(1).optional(),
  // Input limits (SECURITY.md): every request body, query string and path; a request over one gets a 400
  // or 413 naming the field or the limit.
  DDNN_BODY_MAX_BYTES: z.coerce.number().int().min(1024).max(1024 ** 3).default(1024 * 1024),
  DDNN_JSON_MAX_DEPTH: z.coerce.number().int().min(4).max(512).default(32),
  DDNN_STRING_MAX_LENGTH: z.coerce.number().int().min(256).default(65_536),
  DDNN_ARRAY_MAX_LENGTH: z.coerce.number().int().min(16).default(10_000),
  // Model archives (POST /api/models/upload): the archive as sent, its number of entries, each unpacked
  // entry, the whole unpacked archive and its unpacked/packed ratio.
  DDNN_UPLOAD_MAX_BYTES: z.coerce.number().int().min(1024).default(256 * 1024 * 1024),
  DDNN_ARCHIVE_MAX_ENTRIES: z.coerce.number().int().min(2).max(100_000).default(64),
  DDNN_ARCHIVE_MAX_ENTRY_BYTES: z.coerce.number().int().min(1024).default(64 * 1024 * 1024),
  DDNN_ARCHIVE_MAX_TOTAL_BYTES: z.coerce.number().int().min(1024).default(256 * 1024 * 1024),
  DDNN_ARCHIVE_MAX_RATIO: z.coerce.number().min(2).default(100),
  // Folders register-by-path may read (separated by the platform's path delimiter, ':' on Linux);
  // default: <DDNN_DATA_DIR>/models and the repository's models/.
  DDNN_MODELS_ROOTS: z.string().min(1).optional(),
  // Monitoring (apps/api/src/monitoring): how often alert rules are evaluated (one node at a time), webhook
  // retries (the first after DDNN_WEBHOOK_RETRY_BASE_MS, doubling, at most DDNN_WEBHOOK_MAX_ATTEMPTS attempts, each
  // waiting DDNN_WEBHOOK_TIMEOUT_MS at most), and the token Prometheus may scrape GET /metrics with.
  DDNN_ALERT_EVAL_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(10_000),
  DDNN_WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(5_000),
  DDNN_WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(8),
  DDNN_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  DDNN_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
});

export type AppConfig = z.infer<typeof schema>;

/** The folders register-by-path accepts checkpoints under (absolute, not yet symlink-resolved). */
export function modelsRoots(config: Pick<AppConfig, 'DDNN_DATA_DIR' | 'DDNN_MODELS_ROOTS'>): string[] {
  if (config.DDNN_MODELS_ROOTS) return config.DDNN_MODELS_ROOTS.split(path.delimiter).filter(Boolean).map((r) => path.resolve(r));
  return [path.resolve(config.DDNN_DATA_DIR, 'models'), path.join(repoRoot(), 'models')];
}

export class ConfigError extends Error {}

/** Variables whose value is a credential as a whole: a refusal names them and never shows their value. */
const SECRET_VARIABLES = new Set(['DDNN_ADMIN_TOKEN', 'DDNN_METRICS_TOKEN']);

/** A refused variable's value as the refusal shows it: secrets hidden, a password inside a URL redacted. */
function shownValue(key: string, value: string | undefined): string {
  if (value !== undefined && SECRET_VARIABLES.has(key)) return `(hidden, ${value.length} characters)`;
  // A URL refused because it does not parse may hold a password the log scrubber's pattern stops short of (one with
  // a '/', as base64 ones have): everything between the user name and the last '@' goes.
  const shown = value?.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:).*@/i, `$1${REDACTED}@`);
  return scrubSecrets(JSON.stringify(shown)) as string;
}

/** Parses and validates the environment; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(present);
  if (!result.success) {
    const lines = result.error.issues.map((i) => {
      const key = i.path.join('.');
      return `  ${key}=${shownValue(key, env[key])}: ${i.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}

export const APP_CONFIG = Symbol('APP_CONFIG');
