/**
 * Text from outside (a device's error, a camera's problem) as one printable line: control characters (NUL, line
 * breaks, escapes) become spaces and a lone UTF-16 surrogate (a pair cut in half) becomes U+FFFD. PostgreSQL's
 * jsonb refuses NUL and lone surrogates, so one camera's odd message failed the append of a whole sample, and with
 * it the run.
 */
export function printableText(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) out += ' ';
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) out += text[i] + text[++i];
    else if (c >= 0xd800 && c <= 0xdfff) out += '\ufffd';
    else out += text[i];
  }
  return out;
}
