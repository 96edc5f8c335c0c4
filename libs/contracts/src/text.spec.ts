import { comparedToRaw, printableText } from './text';

describe('printableText', () => {
  it('turns control characters into spaces and lone surrogates into U+FFFD, keeping whole pairs', () => {
    expect(printableText('bad\u0000frame\n\tline\u001b[31m\u007f')).toBe('bad frame  line [31m ');
    expect(printableText('cut \ud83d here, \udc4d there, whole \ud83d\udc4d')).toBe('cut \ufffd here, \ufffd there, whole \ud83d\udc4d');
    // What jsonb stores: no \u0000 and no lone surrogate left in its JSON.
    expect(JSON.stringify(printableText('x\u0000y\ud800'))).not.toMatch(/\\u(0000|d[89a-f])/);
  });
});

describe('printableText and bidirectional controls', () => {
  it('replaces overrides and isolates, which reorder what a page shows', () => {
    expect(printableText('photo\u202Egpj.exe')).toBe('photo\ufffdgpj.exe');
    expect(printableText('a\u2066b\u2069c\u202Ad')).toBe('a\ufffdb\ufffdc\ufffdd');
    // Ordinary right-to-left text is left alone.
    expect(printableText('שלום')).toBe('שלום');
  });
});

describe('comparedToRaw', () => {
  it('says how many times less or more DDNN sends than raw offload, and what nothing sent means', () => {
    expect(comparedToRaw(50, 12_800)).toBe('256.0x less');
    // Tiny images: DDNN's features outweigh them; "0.5x less" read backwards.
    expect(comparedToRaw(17, 8)).toBe('2.1x more');
    expect(comparedToRaw(8, 8)).toBe('as much as raw offload');
    expect(comparedToRaw(0, 1_536)).toBe('nothing sent');
    expect(comparedToRaw(0, 0)).toBe('nothing sent, as raw offload would');
    expect(comparedToRaw(12, 0)).toBe('raw offload would send nothing');
  });
});
