import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cliMain, e2eModelDir, repoRoot } from '@ddnn/testing';


const run = promisify(execFile);

/**
 * `ddnn bench faults`, smaller: a research session on six real device agents (one answering garbage, one
 * crashing) while the session pool's connections are cut and the API is SIGKILLed and restarted.
 */
describe('the fault suite (bench faults, small)', () => {
  it('loses nothing acknowledged, logs nothing twice, gives every sample one exit and completes', async () => {
    const { stdout, stderr } = await run(
      process.execPath,
      [cliMain, 'bench', 'faults', '--json', '--no-build', '--samples', '100', '--cuts', '6', '--rate', '8', '--device-wait-ms', '15000', '--model', e2eModelDir()],
      { cwd: repoRoot, env: { ...process.env, DATABASE_URL: process.env.TEST_DATABASE_URL }, maxBuffer: 64 * 1024 * 1024, timeout: 540_000 },
    );
    const lines = stdout.trim().split('\n');
    const result = JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
    // On a failure the suite's own narration (what the API said about the session) tells why.
    if (result.status !== 'completed' || result.apiExits !== 0) process.stderr.write(`bench faults narration:\n${stderr.slice(-6000)}\n`);
    expect(result).toMatchObject({ samples: 100, samplesWithOneOutcome: 100, lostAcknowledgedEvents: 0, duplicateEvents: 0, apiExits: 0, status: 'completed' });
    const missed = result.missedByReason as Record<string, number>;
    // The garbage device's answers are refused as invalid, the crashed device is missed as gone.
    expect(missed.invalid).toBeGreaterThan(0);
    expect((missed.disconnected ?? 0) + (missed.timeout ?? 0)).toBeGreaterThan(0);
  }, 600_000);
});
