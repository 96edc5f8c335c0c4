import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { CompareRequest, CompareResponse, CompareRow, LinkModel, PolicySpec, SampleWindow } from '@ddnn/contracts';
import { pathFlag } from './model-options';

/** How analysis commands reach the platform: its REST API, with the operator token. */
export interface ServerFlags {
  server: string;
  token?: string;
}

/** The platform the CLI talks to: DDNN_SERVER, else the local API on PORT (as npm start serves it). */
export function defaultServer(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DDNN_SERVER?.trim()) return env.DDNN_SERVER.trim();
  const port = env.PORT?.trim() && /^\d{1,5}$/.test(env.PORT.trim()) ? env.PORT.trim() : '3000';
  return `http://localhost:${port}`;
}

/** Adds --server and --token to an analysis command. */
export function serverOptions(cmd: Command): Command {
  return cmd
    .option('--server <url>', 'the running platform (default: DDNN_SERVER, else http://localhost:$PORT, PORT defaulting to 3000)', defaultServer())
    .option('--token <token>', 'operator token (default: DDNN_ADMIN_TOKEN, then <repo>/.data/admin-token)');
}

function repoRoot(): string | null {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    if (dirname(dir) === dir) return null;
  }
}

/** The operator token: --token, DDNN_ADMIN_TOKEN, or the file the platform wrote on first start. */
export function operatorToken(flag: string | undefined): string {
  if (flag) return flag;
  if (process.env.DDNN_ADMIN_TOKEN) return process.env.DDNN_ADMIN_TOKEN;
  const root = repoRoot();
  const dataDir = process.env.DDNN_DATA_DIR ?? (root ? join(root, '.data') : null);
  const file = dataDir ? join(dataDir, 'admin-token') : null;
  if (file && existsSync(file)) return readFileSync(file, 'utf8').trim();
  throw new Error(`no operator token: pass --token, set DDNN_ADMIN_TOKEN, or start the platform once so it writes ${file ?? '<repo>/.data/admin-token'}`);
}

/** A small REST client for the platform's operator endpoints; errors carry the server's message. */
export class PlatformClient {
  private readonly base: string;

  constructor(flags: ServerFlags) {
    let url: URL;
    try {
      url = new URL(flags.server);
    } catch {
      throw new Error(`--server must be a URL such as http://localhost:3000, got "${flags.server}"`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`--server must be http(s), got "${flags.server}"`);
    this.base = url.toString().replace(/\/$/, '');
    this.token = operatorToken(flags.token);
  }

  private readonly token: string;

  /** Sends a request and returns the raw response once it is known to be 2xx. */
  async request(method: string, path: string, body?: unknown): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${this.base}/api${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new Error(`cannot reach the platform at ${this.base}: ${(e as Error).cause ?? (e as Error).message}`);
    }
    if (!res.ok) {
      const text = await res.text();
      let message = text;
      try {
        const m = (JSON.parse(text) as { message?: unknown }).message;
        if (m !== undefined) message = Array.isArray(m) ? m.join('; ') : String(m);
      } catch {
        // not JSON: keep the text
      }
      throw new Error(`${method} /api${path} failed (${res.status}): ${message}`);
    }
    return res;
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await (await this.request(method, path, body)).json()) as T;
  }
}

/** Reads a policies file: a JSON array of policies, or {policies, linkModel?}. */
export async function readPoliciesFile(file: string): Promise<{ policies: PolicySpec[]; linkModel?: LinkModel }> {
  let text: string;
  try {
    text = await readFile(resolve(file), 'utf8');
  } catch (e) {
    throw new Error(`--policies: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`--policies: ${file} is not JSON (${(e as Error).message})`);
  }
  const { parseLinkModel, parsePolicies } = await import('@ddnn/policies');
  try {
    if (Array.isArray(json)) return { policies: parsePolicies(json) };
    if (json && typeof json === 'object' && 'policies' in json) {
      const o = json as { policies: unknown; linkModel?: unknown };
      return { policies: parsePolicies(o.policies), ...(o.linkModel === undefined ? {} : { linkModel: parseLinkModel(o.linkModel) }) };
    }
  } catch (e) {
    throw new Error(`--policies ${file}: ${(e as Error).message}`);
  }
  throw new Error(`--policies ${file}: expected a JSON array of policies or an object {"policies": [...], "linkModel"?: {...}}`);
}

const pct = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(2)}%`);

/** A fixed-width text table of compare rows, for people at a terminal. */
export function formatRows(rows: CompareRow[]): string {
  const head = ['session', 'policy', 'samples', 'accuracy', 'local exit', 'bytes/sample', 'mean ms', 'pareto'];
  const body = rows.map((r) =>
    r.evaluable
      ? [
          r.sessionId.slice(0, 8),
          r.label,
          // (+n): samples the policy leaves without an answer, outside its rates.
          `${r.samples}${r.unanswered ? ` (+${r.unanswered})` : ''}`,
          pct(r.accuracy),
          pct(r.localExitRate),
          r.bytesPerSample.toFixed(1),
          r.latency.meanMs.toFixed(1),
          r.dominated ? '' : '*',
        ]
      : [r.sessionId.slice(0, 8), r.label, '', 'n/a', '', '', '', `not evaluable: ${r.reason}`],
  );
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  return [head, ...body].map((cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n';
}

interface AnalyzeFlags extends ServerFlags {
  session: string[];
  window: string[];
  policies: string;
  fitSession?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];

/**
 * `--window <run>:<from>-<to>` values (repeatable): the samples of each run to evaluate (a stream, which has no end,
 * needs one). With `impliedRun` (a command about one run), `<from>-<to>` alone names that run's window. The window
 * rule is the API's (`parseSampleWindow`, @ddnn/policies), loaded with the command's action, not at `--help`.
 */
export async function parseWindows(values: readonly string[], impliedRun?: string): Promise<Record<string, SampleWindow>> {
  const { parseSampleWindow } = await import('@ddnn/policies');
  const out: Record<string, SampleWindow> = {};
  for (const value of values) {
    const m = /^(?:([^:\s]+):)?(\d{1,10})-(\d{1,10})$/.exec(value.trim());
    const run = m?.[1] ?? impliedRun;
    if (!m || run === undefined) {
      const shape = impliedRun === undefined ? '<run id>:<first sample>-<last sample>, e.g. 3f2a…:100-499' : '<first sample>-<last sample>, e.g. 100-499';
      throw new Error(`--window must be ${shape}; got ${JSON.stringify(value.slice(0, 80))}`);
    }
    if (impliedRun !== undefined && run !== impliedRun) throw new Error(`--window ${value} names run ${run}, but this command is about run ${impliedRun}`);
    if (out[run]) throw new Error(`--window names run ${run} twice`);
    out[run] = parseSampleWindow({ fromSample: Number(m[2]), toSample: Number(m[3]) }, `--window ${value}`);
  }
  return out;
}
const collectRaw = (value: string, previous: string[] = []) => [...previous, value];

/** `ddnn analyze`: counterfactual comparison of exit policies on recorded sessions, through the platform's REST API. */
export function registerAnalyzeCommand(program: Command): void {
  serverOptions(
    program
      .command('analyze')
      .description('Evaluate exit policies counterfactually on recorded sessions (POST /api/analysis/compare)')
      .option('--session <id>', 'session id (repeat or comma-separate for several); a run named by --window needs no --session', collect, [])
      .requiredOption('--policies <file>', 'JSON array of policies, or {"policies": [...], "linkModel": {...}}', pathFlag('--policies'))
      .option('--window <run:from-to>', "evaluate only these samples of a run (a stream needs one: it has no end), e.g. <id>:100-499; repeat for several runs", collectRaw, [])
      .option('--fit-session <id>', 'fit unfitted budget policies on this session (default: in-sample)')
      .option('--json', 'print the compare response as one JSON object on the last line'),
  ).action(async (flags: AnalyzeFlags) => {
    const { policies, linkModel } = await readPoliciesFile(flags.policies);
    const windows = await parseWindows(flags.window);
    // A run given a window is a run to compare: naming it again with --session adds nothing.
    const sessionIds = [...new Set([...flags.session, ...Object.keys(windows)])];
    if (sessionIds.length === 0) throw new Error('name the runs to compare: --session <id> (a session) or --window <id>:<from>-<to> (a stream, or part of a session)');
    const client = new PlatformClient(flags);
    const request: CompareRequest & { fitSessionId?: string } = {
      sessionIds,
      policies,
      ...(linkModel ? { linkModel } : {}),
      ...(flags.fitSession ? { fitSessionId: flags.fitSession } : {}),
      ...(Object.keys(windows).length ? { windows } : {}),
    };
    const response = await client.json<CompareResponse>('POST', '/analysis/compare', request);
    if (flags.json) process.stdout.write(`${JSON.stringify(response)}\n`);
    else process.stdout.write(formatRows(response.rows));
  });
}
