/**
 * Text from outside (a device's error, a camera's problem, an uploaded file's name) as one printable line: control
 * characters (NUL, line breaks, escapes) become spaces, and a lone UTF-16 surrogate (a pair cut in half) and the
 * bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069: they make "gpj.exe" read as "exe.jpg" on a
 * page) become U+FFFD. PostgreSQL's jsonb refuses NUL and lone surrogates, so one camera's odd message failed the
 * append of a whole sample, and with it the run.
 */
export function printableText(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) out += ' ';
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) out += text[i] + text[++i];
    else if ((c >= 0xd800 && c <= 0xdfff) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) out += '\ufffd';
    else out += text[i];
  }
  return out;
}

/**
 * How `bytes` per sample compare with raw offload's `rawBytes`, in words: "4.0x less", "2.1x more" (DDNN can send
 * more than raw when the images are tiny), "nothing sent" (every device failed or captured nothing). A ratio below 1
 * printed as "0.5x less" reads backwards, and 0 bytes has no ratio.
 */
export function comparedToRaw(bytes: number, rawBytes: number): string {
  if (bytes === 0) return rawBytes === 0 ? 'nothing sent, as raw offload would' : 'nothing sent';
  if (rawBytes === 0) return 'raw offload would send nothing';
  if (bytes === rawBytes) return 'as much as raw offload';
  return bytes < rawBytes ? `${(rawBytes / bytes).toFixed(1)}x less` : `${(bytes / rawBytes).toFixed(1)}x more`;
}
