import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const repo = path.resolve(__dirname, '..', '..', '..');
/** Where SQL on the log's tables may live: the store itself and the migrations that create them. */
const OWNERS = ['libs/events/', 'migrations/'];
const SOURCE = /\.(ts|tsx|mts|cts|js|mjs|cjs|sql)$/;
/** Tests check what was stored with their own eyes (raw SQL) and are not part of any node. */
const TEST = /(\.spec\.[cm]?[jt]sx?$)|(^test\/)/;

/**
 * The text of every string and template literal of a source file, in order, joined by a space: SQL split
 * over lines, built by concatenation or template parts, quoted identifiers or odd case all read the same.
 */
function literalText(file: string, text: string): string {
  if (file.endsWith('.sql')) return text;
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, file.endsWith('x') ? ts.LanguageVariant.JSX : ts.LanguageVariant.Standard, text);
  const parts: string[] = [];
  for (let kind = scanner.scan(); kind !== ts.SyntaxKind.EndOfFileToken; kind = scanner.scan()) {
    if (kind === ts.SyntaxKind.CloseBraceToken) {
      // A `}` may close a template substitution: rescan it as the template's next part.
      const again = scanner.reScanTemplateToken(false);
      // The substitution stands between the parts as '?': `from ${n} events` is not `from events`.
      if (again === ts.SyntaxKind.TemplateMiddle || again === ts.SyntaxKind.TemplateTail) parts.push('?', scanner.getTokenValue());
      continue;
    }
    if (
      kind === ts.SyntaxKind.StringLiteral ||
      kind === ts.SyntaxKind.NoSubstitutionTemplateLiteral ||
      kind === ts.SyntaxKind.TemplateHead
    ) {
      parts.push(scanner.getTokenValue());
    }
  }
  return parts.join(' ');
}

/** SQL that names the events, streams or stream_fences table (optionally schema-qualified or quoted) after a clause that reads or writes it. */
export function touchesLogTables(sql: string): string | null {
  const normal = sql.toLowerCase().replace(/"/g, '').replace(/\s+/g, ' ');
  const m = /\b(from|join|into|update|table|truncate|copy|using|lock)\s+(only\s+|table\s+)?(public\s*\.\s*)?(events|streams|stream_fences)\b(?!\s*\.)/.exec(normal);
  return m ? m[0] : null;
}

describe('the event log boundary: no SQL on events or streams outside libs/events and migrations/', () => {
  it('finds the forbidden forms however they are written', () => {
    expect(touchesLogTables('SELECT count(*) FROM events WHERE stream_id = $1')).not.toBeNull();
    expect(touchesLogTables('select *\n   from\n\t"public"."EVENTS" e')).not.toBeNull();
    expect(touchesLogTables(literalText('x.ts', "const q = 'SELECT 1 ' + 'FROM ' + `streams` + ` WHERE ${'a'} = 1`;"))).not.toBeNull();
    expect(touchesLogTables(literalText('x.ts', 'q(`SELECT data FROM ${t} JOIN\n  events USING (x)`)'))).not.toBeNull();
    expect(touchesLogTables('INSERT INTO streams (stream_id) VALUES ($1)')).not.toBeNull();
    expect(touchesLogTables('UPDATE stream_fences SET fence = fence + 1')).not.toBeNull();
    expect(touchesLogTables('SELECT * FROM session_summaries')).toBeNull();
    expect(touchesLogTables('SELECT * FROM device_events_view')).toBeNull();
    expect(touchesLogTables(literalText('x.ts', 'log(`rebuilt from ${n} events`)'))).toBeNull();
    // Prose in comments is not SQL: only literals are read.
    expect(touchesLogTables(literalText('x.ts', '// folded from events\nconst a = 1;'))).toBeNull();
  });

  it('holds for every tracked source file', () => {
    const files = execFileSync('git', ['ls-files', '-z'], { cwd: repo, encoding: 'utf8' })
      .split('\0')
      .filter((f) => SOURCE.test(f) && !TEST.test(f) && !OWNERS.some((o) => f.startsWith(o)));
    expect(files.length).toBeGreaterThan(100);
    const offenders: string[] = [];
    for (const f of files) {
      const full = path.join(repo, f);
      if (!fs.existsSync(full)) continue;
      const hit = touchesLogTables(literalText(f, fs.readFileSync(full, 'utf8')));
      if (hit) offenders.push(`${f}: "${hit}"`);
    }
    expect(offenders).toEqual([]);
  });
});
