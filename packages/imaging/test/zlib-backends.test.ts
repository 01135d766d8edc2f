// The codecs' two zlib backends (fflate everywhere, node:zlib under the Node entry) must agree:
// the same pixels, the same accepted files and the same error messages.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  decodeImage,
  decodePng,
  encodePngSamples,
  fflateBackend,
  ImagingError,
  setZlibBackend,
  zlibBackend,
  type Image,
  type ZlibBackend,
} from '../src/index.js';
import { chunk, concat, ihdr, scanlines, SIGNATURE, writePng, type PngSpec } from './png-writer.js';
import { damageChunks, pngWithImageData, rng } from './damage.js';

// Before the Node entry is imported the package root runs on fflate alone, as in a browser.
const rootBackend = zlibBackend().name;
const { nodeZlibBackend } = await import('../src/node.js');

/** node:zlib, counting the inflates it completed in one shot (so the fast path is known to run). */
function countingNode(): ZlibBackend & { oneShots: number } {
  const b = {
    ...nodeZlibBackend,
    oneShots: 0,
    inflateExact(parts: readonly Uint8Array[], size: number) {
      const out = nodeZlibBackend.inflateExact!(parts, size);
      if (out) b.oneShots++;
      return out;
    },
  };
  return b;
}

/** What `fn` gives under `backend`: an image, or an ImagingError's message. */
function under<T>(backend: ZlibBackend, fn: () => T): T | string {
  const previous = setZlibBackend(backend);
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof ImagingError)) throw e;
    return e.message;
  } finally {
    setZlibBackend(previous);
  }
}

function expectSame(a: Image | string, b: Image | string): void {
  if (typeof a === 'string' || typeof b === 'string') {
    expect(a).toEqual(b);
    return;
  }
  expect([a.width, a.height, a.channels, a.bitDepth]).toEqual([b.width, b.height, b.channels, b.bitDepth]);
  expect(
    Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(
      Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength),
    ),
  ).toBe(true);
}

const W = 29;
const H = 19;
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
function spec(colourType: PngSpec['colourType'], bitDepth: number, interlaced: boolean): PngSpec {
  const max = colourType === 3 ? Math.min(15, 2 ** bitDepth - 1) : 2 ** bitDepth - 1;
  const palette = Uint8Array.from({ length: 16 * 3 }, (_, i) => (i * 37 + 11) % 256);
  return {
    width: W,
    height: H,
    bitDepth,
    colourType,
    interlaced,
    palette: colourType === 3 ? palette.subarray(0, 3 * (max + 1)) : undefined,
    sample: (x, y, c) => ((x * 7 + y * 13 + c * 101) * 2654435761) % (max + 1),
    idatSize: 97,
  };
}

describe('which zlib', () => {
  it('the package root uses fflate and the Node entry installs node:zlib', () => {
    expect(rootBackend).toBe('fflate');
    expect(zlibBackend().name).toBe('node:zlib');
  });
});

describe('PNG decoding: node:zlib and fflate give the same pixels', () => {
  for (const interlaced of [false, true]) {
    it.each(CASES)(
      `colour type %i, %i-bit${interlaced ? ', Adam7' : ''}, full and grey, inflated in one shot by node:zlib`,
      (colourType, bitDepth) => {
        const bytes = writePng(spec(colourType, bitDepth, interlaced));
        for (const grey of [false, true]) {
          const node = countingNode();
          const fast = under(node, () => decodePng(bytes, 'x.png', { grey }));
          expect(node.oneShots).toBe(1);
          expectSame(
            fast,
            under(fflateBackend, () => decodePng(bytes, 'x.png', { grey })),
          );
        }
      },
    );
  }
  const dir = join(import.meta.dirname, 'fixtures');
  const fixtures = readdirSync(dir).filter((f) => f.endsWith('.png') || f.endsWith('.tif'));
  it.each(fixtures)('fixture %s', (name) => {
    const bytes = readFileSync(join(dir, name));
    for (const grey of [false, true]) {
      const node = countingNode();
      const fast = under(node, () => decodeImage(bytes, name, { grey }));
      // Every PNG fixture and every Deflate TIFF strip takes the one-shot path.
      if (name.endsWith('.png') || name.includes('deflate')) expect(node.oneShots).toBeGreaterThan(0);
      expectSame(
        fast,
        under(fflateBackend, () => decodeImage(bytes, name, { grey })),
      );
    }
  });
});

describe('damaged, truncated and over-long image data: the same result and wording under both', () => {
  it.each(CASES.filter((_, i) => i % 3 === 0))(
    'colour type %i, %i-bit: randomly damaged files',
    (colourType, bitDepth) => {
      const s = spec(colourType, bitDepth, colourType % 2 === 0);
      const png = writePng({ ...s, idatSize: 1 << 20 });
      const rand = rng(colourType * 100 + bitDepth);
      for (let i = 0; i < 60; i++) {
        const bytes = damageChunks(png, rand);
        expectSame(
          under(nodeZlibBackend, () => decodePng(bytes, 'x.png')),
          under(fflateBackend, () => decodePng(bytes, 'x.png')),
        );
      }
    },
  );
  it('cut at every length inside the image data, a stream that ends early, and one that runs on past the rows', () => {
    const s = spec(0, 8, false);
    const rows = scanlines(s);
    const png = writePng({ ...s, idatSize: 1 << 20 });
    const cases = [
      ...Array.from({ length: 40 }, (_, k) => png.subarray(0, 41 + k * 7)),
      pngWithImageData(s, deflateSync(rows.subarray(0, rows.length - 10))),
      pngWithImageData(s, deflateSync(concat([rows, new Uint8Array(5000)]))),
      pngWithImageData(s, deflateSync(rows).subarray(0, 60)),
    ];
    for (const bytes of cases)
      expectSame(
        under(nodeZlibBackend, () => decodePng(bytes, 'x.png')),
        under(fflateBackend, () => decodePng(bytes, 'x.png')),
      );
    // The over-long stream is still a valid image under both (the extra bytes are ignored).
    expect(typeof under(nodeZlibBackend, () => decodePng(cases[41]!, 'x.png'))).toBe('object');
  });
  it('raw data up to 64 MiB is inflated in one shot, anything larger streams (no full-size intermediate)', () => {
    // 16-bit RGBA: 2896 x 2896 needs 67,096,224 raw bytes (under 64 MiB), 2900 x 2900 67,282,900 (over).
    for (const [side, oneShots] of [
      [2896, 1],
      [2900, 0],
    ] as const) {
      const z = deflateSync(new Uint8Array(side * (1 + side * 8)));
      const png = concat([SIGNATURE, ihdr(side, side, 16, 6), chunk('IDAT', z), chunk('IEND', new Uint8Array(0))]);
      const node = countingNode();
      const img = under(node, () => decodePng(png, 'big.png', { grey: true })) as Image;
      expect([img.width, img.height, img.channels]).toEqual([side, side, 1]);
      expect(node.oneShots).toBe(oneShots);
    }
  });
  it('node:zlib never inflates past the size asked for: a longer stream is refused, not grown', () => {
    const bomb = deflateSync(new Uint8Array(8 << 20));
    expect(nodeZlibBackend.inflateExact!([bomb], 1000)).toBeUndefined();
    expect(nodeZlibBackend.inflateExact!([bomb], 8 << 20)!.length).toBe(8 << 20);
  });
});

describe('PNG encoding under both backends', () => {
  const samples = (channels: 1 | 3, wide: boolean) => {
    const n = 61 * 43 * channels;
    const data = wide ? new Uint16Array(n) : new Uint8Array(n);
    for (let i = 0; i < n; i++) data[i] = ((i * 2654435761) >>> (wide ? 8 : 20)) & (wide ? 0xffff : 0xff);
    return { width: 61, height: 43, channels, data } as const;
  };
  it.each([
    [1, false],
    [1, true],
    [3, false],
    [3, true],
  ] as const)(
    '%i channel(s), 16-bit %s: every backend, level and strategy decodes to the same pixels under both',
    (channels, wide) => {
      const s = samples(channels, wide);
      const reference = under(fflateBackend, () => decodePng(encodePngSamples(s), 'ref.png'));
      for (const writer of [fflateBackend, nodeZlibBackend]) {
        for (const options of [{}, { deflateLevel: 0 }, { deflateLevel: 9 }, { strategy: 'huffman-only' as const }]) {
          const png = under(writer, () => encodePngSamples(s, options)) as Uint8Array;
          for (const reader of [fflateBackend, nodeZlibBackend])
            expectSame(
              under(reader, () => decodePng(png, 'x.png')),
              reference,
            );
        }
      }
    },
  );
  it('node:zlib honours the Huffman-only strategy (no back-references: a repeated row costs as much as a new one)', () => {
    const row = Uint8Array.from({ length: 512 }, (_, i) => (i * 97) & 255);
    const s = {
      width: 512,
      height: 64,
      channels: 1 as const,
      data: new Uint8Array(512 * 64).map((_, i) => row[i % 512]!),
    };
    const plain = under(nodeZlibBackend, () => encodePngSamples(s, { filterType: 0 })) as Uint8Array;
    const huffman = under(nodeZlibBackend, () =>
      encodePngSamples(s, { filterType: 0, strategy: 'huffman-only' }),
    ) as Uint8Array;
    expect(huffman.length).toBeGreaterThan(4 * plain.length);
  });
  it('rejects a level or strategy zlib does not have', () => {
    const s = samples(1, false);
    expect(() => encodePngSamples(s, { deflateLevel: 10 })).toThrow(/deflateLevel must be 0-9, got 10/);
    expect(() => encodePngSamples(s, { strategy: 'rle' as never })).toThrow(
      /strategy must be 'default' or 'huffman-only', got rle/,
    );
  });
});
