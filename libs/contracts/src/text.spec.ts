import { printableText } from './text';

describe('printableText', () => {
  it('turns control characters into spaces and lone surrogates into U+FFFD, keeping whole pairs', () => {
    expect(printableText('bad\u0000frame\n\tline\u001b[31m\u007f')).toBe('bad frame  line [31m ');
    expect(printableText('cut \ud83d here, \udc4d there, whole \ud83d\udc4d')).toBe('cut \ufffd here, \ufffd there, whole \ud83d\udc4d');
    // What jsonb stores: no \u0000 and no lone surrogate left in its JSON.
    expect(JSON.stringify(printableText('x\u0000y\ud800'))).not.toMatch(/\\u(0000|d[89a-f])/);
  });
});
