/** What a secret is replaced with in a log line. */
export const REDACTED = '[redacted]';

// Field names that hold credentials, at the top level and one level down (pino's redact paths; `*` is one level).
const SECRET_FIELDS = ['token', 'adminToken', 'provisioningKey', 'profileKey', 'password', 'secret', 'authorization', 'apiKey', 'key'];
export const redactPaths: string[] = [
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((f) => `*.${f}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
];

const PATTERNS: [RegExp, string][] = [
  // scheme://user:password@host -> scheme://user:[redacted]@host
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]*@/gi, `$1${REDACTED}@`],
  // Authorization: Bearer <token>
  [/\b(bearer\s+)[^\s"',;]+/gi, `$1${REDACTED}`],
  // the platform's own tokens: ddnn_pk_..., ddnn_dev_..., ddnn_admin_...
  [/\b(ddnn_[a-z]+_)[A-Za-z0-9_-]{6,}/g, `$1${REDACTED}`],
  // ?token=... &key=... in URLs
  [/([?&#](?:token|access_token|key|password|profile-key)=)[^&\s#"']+/gi, `$1${REDACTED}`],
];

function scrubString(s: string): string {
  let out = s;
  for (const [re, by] of PATTERNS) out = out.replace(re, by);
  return out;
}

/** A copy of `value` with credentials inside strings replaced (objects and arrays walked a few levels deep). */
export function scrubSecrets(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubString(value);
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrubSecrets(v, depth + 1));
  if (value instanceof Error) {
    const copy = Object.create(Object.getPrototypeOf(value)) as Error;
    Object.assign(copy, value);
    copy.message = scrubString(value.message);
    if (value.stack) copy.stack = scrubString(value.stack);
    return copy;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubSecrets(v, depth + 1);
  return out;
}
