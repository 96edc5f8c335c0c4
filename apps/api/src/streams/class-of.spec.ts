import { classOf } from './streams.service';

describe('classOf (a posted label as a class of the model)', () => {
  const nfc = 'ñandú'.normalize('NFC');
  const nfd = 'ñandú'.normalize('NFD');
  const classes = ['car', 'bus', nfc];

  it('takes a class name in either Unicode normalization: one that looks the same is the same class', () => {
    expect(nfd).not.toBe(nfc);
    expect(classOf(nfc, classes)).toBe(2);
    expect(classOf(nfd, classes)).toBe(2);
    expect(classOf('ñandú'.normalize('NFC'), ['car', nfd])).toBe(1);
  });

  it('takes an index within the classes, and nothing else', () => {
    expect(classOf(1, classes)).toBe(1);
    expect(classOf(3, classes)).toBeNull();
    expect(classOf(1.5, classes)).toBeNull();
    expect(classOf('Car', classes)).toBeNull();
    expect(classOf(null, classes)).toBeNull();
  });
});
