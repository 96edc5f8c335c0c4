/**
 * Text from outside (a device's error, a camera's problem) as one printable line: control characters (NUL, line
 * breaks, escapes) become spaces and a lone UTF-16 surrogate (a pair cut in half) becomes U+FFFD. PostgreSQL's
 * jsonb refuses NUL and lone surrogates, so one camera's odd message failed the append of a whole sample, and with
 * it the run.
 */
export function printableText(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}
