import { crc32, deflateSync } from 'node:zlib';
import { decodeImage, encodePng, isGreyImage, createRaster } from './raster';

/** A PNG chunk: length, type, data, CRC of type and data. */
function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A 2x2 8-bit palette PNG (colour type 3) whose pixels index `palette` as 0, 1 / 1, 0. */
function palettePng(palette: [number, number, number][]): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(2, 0);
  ihdr.writeUInt32BE(2, 4);
  ihdr[8] = 8;
  ihdr[9] = 3;
  const rows = Buffer.from([0, 0, 1, 0, 1, 0]); // filter byte 0, then two indices a row
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('PLTE', Buffer.from(palette.flat())),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('isGreyImage', () => {
  it('reads grey and colour from a PNG header', () => {
    expect(isGreyImage(encodePng(createRaster(3, 2, 1)))).toBe(true);
    expect(isGreyImage(encodePng(createRaster(3, 2, 3)))).toBe(false);
    expect(isGreyImage(Buffer.from('not an image'))).toBeNull();
  });

  it('counts a palette PNG as grey when every palette entry is grey, and as colour when one is not', () => {
    const grey = palettePng([[10, 10, 10], [200, 200, 200]]);
    // The palette images decode (they are real PNGs) to the palette's colours.
    expect(Array.from(decodeImage(grey).data.subarray(0, 6))).toEqual([10, 10, 10, 200, 200, 200]);
    expect(isGreyImage(grey)).toBe(true);
    expect(isGreyImage(palettePng([[10, 10, 10], [200, 0, 200]]))).toBe(false);
  });

  it('cannot tell a palette PNG cut before its palette ends (the caller reads the whole file then)', () => {
    const grey = palettePng([[10, 10, 10], [200, 200, 200]]);
    // Signature (8) + IHDR chunk (25) + the PLTE chunk's length and type, not its data.
    expect(isGreyImage(grey.subarray(0, 8 + 25 + 8 + 3))).toBeNull();
    expect(isGreyImage(grey.subarray(0, 30))).toBeNull();
  });
});
