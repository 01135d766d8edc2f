import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeImage, decodePng, ImagingError, toGrey, type Image } from '../src/index.js';
import { SAMPLES, scanlines, writePng, type PngSpec } from './png-writer.js';
import { damageChunks, pngWithImageData, rng } from './damage.js';

const W = 29;
const H = 19;
const PALETTE = Uint8Array.from({ length: 16 * 3 }, (_, i) => (i * 37 + 11) % 256);

function spec(colourType: PngSpec['colourType'], bitDepth: number, interlaced: boolean): PngSpec {
  const max = colourType === 3 ? Math.min(15, 2 ** bitDepth - 1) : 2 ** bitDepth - 1;
  return {
    width: W,
    height: H,
    bitDepth,
    colourType,
    interlaced,
    palette: colourType === 3 ? PALETTE.subarray(0, 3 * (max + 1)) : undefined,
    sample: (x, y, c) => ((x * 7 + y * 13 + c * 101) * 2654435761) % (max + 1),
    idatSize: 97,
  };
}

/** What each pixel must decode to, straight from the values the writer was given. */
function expected(s: PngSpec): { channels: number; data: Float64Array } {
  const channels = s.colourType === 3 ? 3 : SAMPLES[s.colourType];
  const data = new Float64Array(W * H * channels);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < channels; c++) {
        const v =
          s.colourType === 3 ? s.palette![3 * s.sample(x, y, 0) + c]! / 255 : s.sample(x, y, c) / (2 ** s.bitDepth - 1);
        data[(y * W + x) * channels + c] = v;
      }
    }
  }
  return { channels, data };
}

const CASES: [PngSpec['colourType'], number][] = [
  [0, 1],
  [0, 2],
  [0, 4],
  [0, 8],
  [0, 16],
  [2, 8],
  [2, 16],
  [3, 1],
  [3, 2],
  [3, 4],
  [3, 8],
  [4, 8],
  [4, 16],
  [6, 8],
  [6, 16],
];

describe('PNG decoder: every colour type, depth, filter and interlacing', () => {
  for (const interlaced of [false, true]) {
    it.each(CASES)(`colour type %i, %i-bit${interlaced ? ', Adam7' : ''}`, (colourType, bitDepth) => {
      const s = spec(colourType, bitDepth, interlaced);
      const img = decodePng(writePng(s), 'x.png');
      const want = expected(s);
      expect([img.width, img.height, img.channels]).toEqual([W, H, want.channels]);
      expect(img.bitDepth).toBe(colourType === 3 ? 8 : bitDepth);
      for (let i = 0; i < want.data.length; i++) expect(img.data[i]).toBe(Math.fround(want.data[i]!));
    });
  }
});

describe('decoding straight to grey', () => {
  const same = (a: Image, b: Image): void => {
    expect([a.width, a.height, a.channels, a.bitDepth]).toEqual([b.width, b.height, 1, b.bitDepth]);
    expect(Buffer.from(a.data.buffer).equals(Buffer.from(b.data.buffer))).toBe(true);
  };
  it.each(CASES)('PNG colour type %i, %i-bit equals toGrey of the full decode bit for bit', (colourType, bitDepth) => {
    const bytes = writePng(spec(colourType, bitDepth, false));
    same(decodePng(bytes, 'x.png', { grey: true }), toGrey(decodePng(bytes, 'x.png')));
  });
  const dir = join(import.meta.dirname, 'fixtures');
  const fixtures = readdirSync(dir).filter(
    (f) => !f.endsWith('.py') && !f.includes('jpeg-encapsulated') && !f.includes('-jpeg.'),
  );
  it.each(fixtures)('%s equals toGrey of the full decode bit for bit', (name) => {
    const bytes = readFileSync(join(dir, name));
    same(decodeImage(bytes, name, { grey: true }), toGrey(decodeImage(bytes, name)));
  });
});

describe('PNG decoder: damaged image data behind valid CRCs', () => {
  it.each(CASES.filter((_, i) => i % 2 === 0))(
    'colour type %i, %i-bit, plain and Adam7: decodes or throws an ImagingError',
    (colourType, bitDepth) => {
      for (const interlaced of [false, true]) {
        const s = spec(colourType, bitDepth, interlaced);
        const png = writePng({ ...s, idatSize: 1 << 20 });
        const rows = scanlines(s);
        const rand = rng(colourType * 100 + bitDepth + (interlaced ? 7 : 0));
        for (let i = 0; i < 100; i++) {
          // Odd iterations damage the scanlines before compression: bad filter types, palette indices out of range.
          const bytes =
            i % 2 === 0
              ? damageChunks(png, rand)
              : pngWithImageData(s, deflateSync(rows.map((b) => (rand() < 0.02 ? Math.floor(rand() * 256) : b))));
          try {
            const img = decodePng(bytes, 'x.png');
            expect(img.data.length).toBe(img.width * img.height * img.channels);
          } catch (e) {
            if (!(e instanceof ImagingError)) throw new Error(`iteration ${i}: ${String(e)}`);
          }
        }
      }
    },
  );
});
