import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Command } from 'commander';
import { PlatformClient, serverOptions, type ServerFlags } from './analyze';
import { pathFlag } from './model-options';
import { checkOutputFile } from './output-file';
import { log } from '../log';

interface ExportFlags extends ServerFlags {
  session?: string;
  sessions?: boolean;
  format: string;
  what: string;
  out: string;
  json?: boolean;
}

/** `ddnn export`: a session's samples or events (or every session) as CSV, streamed from the platform to a file. */
export function registerExportCommand(program: Command): void {
  serverOptions(
    program
      .command('export')
      .description('Stream CSV from the platform: GET /api/sessions/:id/export, or /api/analysis/sessions.csv with --sessions')
      .option('--session <id>', 'the session to export')
      .option('--sessions', 'export the sessions table (with live outcomes) instead of one session')
      .option('--format <format>', 'only csv', 'csv')
      .option('--what <what>', 'samples (one row per sample) or events (one row per event)', 'samples')
      .requiredOption('--out <file>', 'output file, or - for stdout', pathFlag('--out'))
      .option('--json', 'print {"file","bytes","lines"} as the last line'),
  ).action(async (flags: ExportFlags) => {
    if (flags.format !== 'csv') throw new Error(`--format must be csv, got "${flags.format}"`);
    if (flags.what !== 'samples' && flags.what !== 'events') throw new Error(`--what must be samples or events, got "${flags.what}"`);
    if (!flags.session === !flags.sessions) throw new Error('pass exactly one of --session <id> or --sessions');
    if (flags.json && flags.out === '-') throw new Error('--json needs --out <file>: stdout carries the CSV');
    const file = flags.out === '-' ? null : resolve(flags.out);
    if (file) await checkOutputFile('--out', file);
    const client = new PlatformClient(flags);
    const path = flags.session
      ? `/sessions/${encodeURIComponent(flags.session)}/export?format=csv&what=${flags.what}`
      : '/analysis/sessions.csv';
    const res = await client.request('GET', path);
    if (!res.body) throw new Error(`GET /api${path} returned no body`);
    let bytes = 0;
    let newlines = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) newlines++;
        done(null, chunk);
      },
    });
    const sink = file ? createWriteStream(file) : process.stdout;
    await pipeline(Readable.fromWeb(res.body as unknown as WebReadableStream), count, sink);
    // Quoted fields may hold newlines, so this counts lines, which equals rows + 1 for plain data.
    const summary = { file: file ?? '-', bytes, lines: newlines };
    log(`wrote ${bytes} bytes (${newlines} lines) to ${summary.file}`);
    if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  });
}
