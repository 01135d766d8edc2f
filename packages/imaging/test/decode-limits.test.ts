import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeImage, DEFAULT_MAX_PIXELS, ImagingError } from '../src/index.js';
import { chunk, concat, ihdr, SIGNATURE } from './png-writer.js';

const fixtures = join(import.meta.dirname, 'fixtures');
const LIMIT =
  /is above the limit of ([\d,]+) pixels \(a corrupt header or a decompression bomb; if the image is real, raise maxPixels/;

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ImagingError);
    return (e as ImagingError).reason;
  }
  throw new Error('expected an ImagingError');
}

/** A PNG whose IHDR claims `width` x `height` over a few bytes of image data that could never fill it. */
function pngHeaderBomb(width: number, height: number, bitDepth = 8, colourType = 0): Uint8Array {
  return concat([
    SIGNATURE,
    ihdr(width, height, bitDepth, colourType),
    chunk('IDAT', deflateSync(new Uint8Array(64))),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** A little-endian TIFF with one 8-bit grey strip of `stripBytes` bytes whose header claims `width` x `height`. */
function tiffHeaderBomb(width: number, height: number, stripBytes = 16): Uint8Array {
  const entries: [number, number, number][] = [
    [256, 4, width],
    [257, 4, height],
    [258, 3, 8],
    [259, 3, 1],
    [262, 3, 1],
    [273, 4, 8 + 2 + 7 * 12 + 4],
    [279, 4, stripBytes],
  ];
  const out = new Uint8Array(8 + 2 + entries.length * 12 + 4 + stripBytes);
  const v = new DataView(out.buffer);
  out.set([0x49, 0x49, 42, 0]);
  v.setUint32(4, 8, true);
  v.setUint16(8, entries.length, true);
  entries.forEach(([tag, type, value], i) => {
    const e = 10 + i * 12;
    v.setUint16(e, tag, true);
    v.setUint16(e + 2, type, true);
    v.setUint32(e + 4, 1, true);
    if (type === 3) v.setUint16(e + 8, value, true);
    else v.setUint32(e + 8, value, true);
  });
  return out;
}

/** The mono2-8bit fixture with its Rows (0028,0010) and Columns (0028,0011) rewritten. */
function dicomHeaderBomb(rows: number, columns: number): Uint8Array {
  const dcm = new Uint8Array(readFileSync(join(fixtures, 'mono2-8bit.dcm')));
  const v = new DataView(dcm.buffer);
  for (const [element, value] of [
    [0x10, rows],
    [0x11, columns],
  ] as const) {
    const at = Buffer.from(dcm).indexOf(Buffer.from([0x28, 0, element, 0, 0x55, 0x53, 2, 0]));
    expect(at).toBeGreaterThan(0);
    v.setUint16(at + 8, value, true);
  }
  return dcm;
}

/** The grey-baseline fixture with its frame header (SOF0) claiming `width` x `height`. */
function jpegHeaderBomb(width: number, height: number): Uint8Array {
  const jpg = new Uint8Array(readFileSync(join(fixtures, 'grey-baseline.jpg')));
  const at = Buffer.from(jpg).indexOf(Buffer.from([0xff, 0xc0]));
  expect(at).toBeGreaterThan(0);
  new DataView(jpg.buffer).setUint16(at + 5, height);
  new DataView(jpg.buffer).setUint16(at + 7, width);
  return jpg;
}

describe('the pixel limit is checked from the header, before decoding', () => {
  it('the default limit is 30 megapixels', () => {
    expect(DEFAULT_MAX_PIXELS).toBe(30_000_000);
  });

  // Each file's data could not fill its claimed size, so any other error would mean the decoder
  // went past the header first.
  it.each([
    ['PNG', () => pngHeaderBomb(20000, 20000)],
    ['16-bit RGBA PNG', () => pngHeaderBomb(12000, 12000, 16, 6)],
    ['TIFF', () => tiffHeaderBomb(20000, 20000)],
    ['DICOM', () => dicomHeaderBomb(6000, 6000)],
    ['JPEG', () => jpegHeaderBomb(6000, 6000)],
  ])('a %s whose header claims more than the limit is refused with the limit in the message', (_, make) => {
    const reason = reasonOf(() => decodeImage(make(), 'bomb'));
    expect(reason).toMatch(LIMIT);
    expect(reason.match(LIMIT)![1]).toBe('30,000,000');
  });

  it('maxPixels lowers or raises the limit', () => {
    const bomb = pngHeaderBomb(100, 100);
    expect(reasonOf(() => decodeImage(bomb, 'bomb', { maxPixels: 9_999 }))).toMatch(
      /image size 100x100 \(10,000 pixels\) is above the limit of 9,999 pixels/,
    );
    // At the claimed size the header passes, and the missing data is what is reported.
    expect(reasonOf(() => decodeImage(bomb, 'bomb', { maxPixels: 10_000 }))).toBe(
      'PNG is corrupt (the compressed image data ends at row 0 of 100)',
    );
  });

  // rgb-baseline.jpg has full-resolution chroma, so its samples, not its pixels, meet the limit first (below).
  const names = readdirSync(fixtures).filter(
    (f) => !f.endsWith('.py') && !f.includes('jpeg-encapsulated') && !f.includes('-jpeg.') && f !== 'rgb-baseline.jpg',
  );
  it.each(names)('%s (37x23 = 851 pixels) decodes at maxPixels 851 and is refused at 850', (name) => {
    const bytes = readFileSync(join(fixtures, name));
    expect(decodeImage(bytes, name, { maxPixels: 851 }).width).toBe(37);
    expect(reasonOf(() => decodeImage(bytes, name, { maxPixels: 850 }))).toMatch(
      /image size 37x23 \(851 pixels\) is above the limit of 850 pixels/,
    );
  });

  it('a colour JPEG counts its samples: 1.5 per pixel of the limit (jpeg-js holds every block of every component)', () => {
    const bytes = readFileSync(join(fixtures, 'rgb-baseline.jpg')); // 37x23, three components at full resolution
    expect(decodeImage(bytes, 'c.jpg', { maxPixels: 1702 }).width).toBe(37);
    expect(reasonOf(() => decodeImage(bytes, 'c.jpg', { maxPixels: 1701 }))).toBe(
      'JPEG of 37x23 with 3 colour components holds 2,553 samples, above the limit of 2,551 (1.5 per pixel of the 1,701 pixel limit); re-save it as grey, or raise maxPixels',
    );
    // A grey JPEG is one sample per pixel: the pixel limit is what applies.
    expect(decodeImage(readFileSync(join(fixtures, 'grey-baseline.jpg')), 'g.jpg', { maxPixels: 851 }).width).toBe(37);
  });

  it('a film exactly at the default limit still decodes; one row more is refused', () => {
    const [width, height] = [5000, 6000];
    const rows = new Uint8Array((width + 1) * height);
    for (let y = 0; y < height; y++) rows[y * (width + 1) + 1 + (y % width)] = 255;
    const img = decodeImage(
      concat([
        SIGNATURE,
        ihdr(width, height, 8, 0),
        chunk('IDAT', deflateSync(rows)),
        chunk('IEND', new Uint8Array(0)),
      ]),
      'edge.png',
      { grey: true },
    );
    expect(img.width * img.height).toBe(DEFAULT_MAX_PIXELS);
    expect(img.data[5999 * 5000 + 999]).toBe(1);
    expect(reasonOf(() => decodeImage(pngHeaderBomb(5000, 6001), 'over.png'))).toMatch(
      /image size 5000x6001 \(30,005,000 pixels\) is above the limit of 30,000,000/,
    );
  });

  it('a maxPixels that is not a positive integer up to 2^28 is a programming error', () => {
    const png = pngHeaderBomb(2, 2);
    for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 28 + 1])
      expect(() => decodeImage(png, 'x', { maxPixels: bad })).toThrow(RangeError);
  });
});
