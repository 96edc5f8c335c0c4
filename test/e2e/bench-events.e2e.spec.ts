import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { cliMain, repoRoot, testServerUrl } from '@ddnn/testing';

const run = promisify(execFile);

/** `ddnn bench events` with the test server as TEST_DATABASE_URL; stdout and stderr apart. */
function bench(args: string[]) {
  return run(process.execPath, [cliMain, 'bench', 'events', ...args], {
    cwd: repoRoot,
    env: { ...process.env, TEST_DATABASE_URL: testServerUrl() },
    maxBuffer: 16 * 1024 * 1024,
  });
}

async function benchDatabases(): Promise<string[]> {
  const admin = new Client({ connectionString: testServerUrl() });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'ddnn_bench_events_%'`);
    return rows.map((r) => r.datname);
  } finally {
    await admin.end();
  }
}

describe('ddnn bench events (a process, a real PostgreSQL)', () => {
  it('prints the issue\'s JSON contract as the last line of stdout, the rounds on stderr, and leaves no database behind', async () => {
    const before = await benchDatabases();
    const { stdout, stderr } = await bench(['--events', '600', '--rounds', '2', '--batch-size', '50', '--events-per-append', '3', '--json']);
    const result = JSON.parse(stdout.trim().split('\n').at(-1) as string);
    expect(result).toMatchObject({ batchSize: 50, events: 600, rounds: 2, eventsPerAppend: 3, fsync: expect.any(String) });
    for (const key of ['eventsPerSecond', 'copyRowsPerSecond', 'copyIndexedRowsPerSecond', 'copyBatchedRowsPerSecond']) {
      expect(result[key]).toBeGreaterThan(0);
    }
    expect(result.perRound).toHaveLength(2);
    // The ratio is the median of the rounds' own ratios: of two, their mean.
    const [a, b] = result.perRound.map((r: { ratio: number }) => r.ratio);
    expect(result.ratio).toBeCloseTo((a + b) / 2, 2);
    expect(stderr).toMatch(/round 2\/2: writer \d+ events\/s, COPY \d+ rows\/s/);
    // Appends of 3 fill batches of at most 50 events up to 48: an append is never split.
    expect(stderr).toMatch(/largest 48\)/);
    expect(await benchDatabases()).toEqual(before);
  });

  it('refuses a bad flag with a message naming it', async () => {
    await expect(bench(['--batch-size', '0'])).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/--batch-size must be an integer >= 1, got "0"/) });
    await expect(bench(['--events-per-append', 'x'])).rejects.toMatchObject({ stderr: expect.stringMatching(/--events-per-append must be an integer >= 1, got "x"/) });
  });
});
