import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deflateSync } from 'node:zlib';
import { decodeImage, ImagingError } from '../src/index.js';
import { readImage } from '../src/node.js';
import { chunk, concat, ihdr, scanlines, SIGNATURE, writePng, type PngSpec } from './png-writer.js';

const fixtures = join(import.meta.dirname, 'fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'imaging-errors-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function errorOf(fn: () => unknown): ImagingError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ImagingError);
    return e as ImagingError;
  }
  throw new Error('expected an ImagingError');
}
const reasonOf = (fn: () => unknown): string => errorOf(fn).reason;
const count = (n: number): string => n.toLocaleString('en-US');

/** A grey film-like PNG big enough for four-digit byte counts: IHDR, one IDAT, IEND. */
const FILM: PngSpec = {
  width: 160,
  height: 120,
  bitDepth: 8,
  colourType: 0,
  sample: (x, y) => (x * 3 + y * 5 + ((x * y) % 7)) & 255,
};
const film = writePng(FILM);
const IDAT_AT = 33;

describe('PNG errors say what is wrong in our words', () => {
  it('a truncated PNG says after how many of how many bytes, at every cut inside the image data', () => {
    expect(film.length).toBeGreaterThan(1000);
    for (const cut of [IDAT_AT + 8, IDAT_AT + 20, Math.floor(film.length / 2), film.length - 13]) {
      const reason = reasonOf(() => decodeImage(film.subarray(0, cut), 'f.png'));
      // The single IDAT's length says where it ends; IEND's 12 bytes follow: the whole file.
      expect(reason).toBe(
        `PNG is truncated after ${count(cut)} of at least ${count(film.length)} bytes (the IDAT chunk at byte 33 is cut off)`,
      );
    }
  });

  it('a PNG cut inside the header or between chunks says so', () => {
    expect(reasonOf(() => decodeImage(film.subarray(0, 20), 'f.png'))).toBe(
      'PNG is truncated after 20 of at least 45 bytes (the IHDR chunk at byte 8 is cut off)',
    );
    expect(reasonOf(() => decodeImage(film.subarray(0, IDAT_AT + 3), 'f.png'))).toBe(
      'PNG is truncated after 36 of at least 45 bytes (a chunk header is cut off)',
    );
    expect(reasonOf(() => decodeImage(film.subarray(0, IDAT_AT), 'f.png'))).toBe(
      'PNG is truncated after 33 bytes (no image data)',
    );
  });

  it('image data split over IDAT chunks and cut between them says which row it reached', () => {
    const split = writePng({ ...FILM, idatSize: 1000 });
    const idats = [...split.subarray(0, split.length - 12).keys()].filter(
      (i) => String.fromCharCode(...split.subarray(i + 4, i + 8)) === 'IDAT',
    );
    const reason = reasonOf(() => decodeImage(split.subarray(0, idats[2]!), 'f.png'));
    expect(reason).toMatch(/^PNG is truncated after [\d,]+ bytes \(the image data stops at row \d+ of 120\)$/);
  });

  it('a damaged chunk fails its CRC check', () => {
    const bad = film.slice();
    bad[IDAT_AT + 100] ^= 0x40;
    expect(reasonOf(() => decodeImage(bad, 'f.png'))).toBe(
      'PNG is corrupt (the IDAT chunk at byte 33 fails its CRC check)',
    );
  });

  it('a damaged zlib stream (with a valid CRC) is reported as damaged image data', () => {
    const z = deflateSync(scanlines(FILM));
    z[2] = 0xff; // first deflate block header: type 3 does not exist
    const bad = concat([SIGNATURE, ihdr(160, 120, 8, 0), chunk('IDAT', z), chunk('IEND', new Uint8Array(0))]);
    expect(reasonOf(() => decodeImage(bad, 'f.png'))).toMatch(
      /^PNG is corrupt \(its compressed image data is damaged: invalid block type, at row 0 of 120\)$/,
    );
  });

  it('image data that ends early inside a complete file', () => {
    const z = deflateSync(scanlines(FILM).subarray(0, 161 * 50));
    const short = concat([SIGNATURE, ihdr(160, 120, 8, 0), chunk('IDAT', z), chunk('IEND', new Uint8Array(0))]);
    expect(reasonOf(() => decodeImage(short, 'f.png'))).toBe(
      'PNG is corrupt (the compressed image data ends at row 50 of 120)',
    );
  });

  it('bad header fields and filter types', () => {
    const withHeader = (depth: number, colour: number) =>
      concat([
        SIGNATURE,
        ihdr(4, 4, depth, colour),
        chunk('IDAT', deflateSync(new Uint8Array(4 * 17))),
        chunk('IEND', new Uint8Array(0)),
      ]);
    expect(reasonOf(() => decodeImage(withHeader(8, 5), 'f.png'))).toBe('PNG is corrupt (unknown colour type 5)');
    expect(reasonOf(() => decodeImage(withHeader(3, 0), 'f.png'))).toBe(
      'PNG is corrupt (bit depth 3 is not allowed for colour type 0)',
    );
    const rows = scanlines(FILM);
    rows[161 * 7] = 9;
    const bad = concat([
      SIGNATURE,
      ihdr(160, 120, 8, 0),
      chunk('IDAT', deflateSync(rows)),
      chunk('IEND', new Uint8Array(0)),
    ]);
    expect(reasonOf(() => decodeImage(bad, 'f.png'))).toBe('PNG is corrupt (row 7 of 120 has unknown filter type 9)');
  });

  it("no message carries a third-party decoder's wording", () => {
    for (let cut = 9; cut < film.length - 12; cut += 97) {
      expect(reasonOf(() => decodeImage(film.subarray(0, cut), 'f.png'))).toMatch(/^PNG is (truncated|corrupt) /);
    }
  });
});

describe('TIFF, DICOM and JPEG truncation', () => {
  it('a TIFF cut inside its strips says after how many of how many bytes', () => {
    const tif = readFileSync(join(fixtures, 'grey8-raw.tif'));
    for (const frac of [0.3, 0.6, 0.99]) {
      const cut = Math.floor(tif.length * frac);
      expect(reasonOf(() => decodeImage(tif.subarray(0, cut), 't.tif'))).toBe(
        `TIFF is truncated after ${count(cut)} of ${count(tif.length)} bytes (the image data runs past the end)`,
      );
    }
  });

  it('a TIFF whose directory is cut off', () => {
    const tif = readFileSync(join(fixtures, 'grey16-lzw.tif'));
    expect(reasonOf(() => decodeImage(tif.subarray(0, 600), 't.tif'))).toMatch(
      /^TIFF is truncated after 600 of at least [\d,]+ bytes \(the image directory runs past the end\)$/,
    );
  });

  it('a DICOM cut inside its pixel data', () => {
    const dcm = readFileSync(join(fixtures, 'mono2-12bit.dcm'));
    for (const frac of [0.3, 0.6, 0.99]) {
      const cut = Math.floor(dcm.length * frac);
      expect(reasonOf(() => decodeImage(dcm.subarray(0, cut), 'd.dcm'))).toBe(
        `DICOM is truncated after ${count(cut)} of at least ${count(dcm.length)} bytes (the pixel data is cut off)`,
      );
    }
  });

  it('a JPEG cut short', () => {
    const jpg = readFileSync(join(fixtures, 'grey-baseline.jpg'));
    expect(reasonOf(() => decodeImage(jpg.subarray(0, 300), 'j.jpg'))).toBe(
      'JPEG is truncated after 300 bytes (no end-of-image marker)',
    );
  });
});

describe('the path appears exactly once', () => {
  const occurrences = (text: string, path: string): number => text.split(path).length - 1;
  it.each([
    ['film.png', film.subarray(0, 700)],
    ['strips.tif', readFileSync(join(fixtures, 'grey8-raw.tif')).subarray(0, 500)],
    ['pixels.dcm', readFileSync(join(fixtures, 'mono2-12bit.dcm')).subarray(0, 1000)],
    ['text.png', new TextEncoder().encode('not an image')],
  ])('readImage of a broken %s', async (name, bytes) => {
    const path = join(tmp, name);
    writeFileSync(path, bytes);
    const e = await readImage(path).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(ImagingError);
    const err = e as ImagingError;
    expect(err.file).toBe(path);
    expect(err.reason).not.toContain(tmp);
    expect(occurrences(err.message, path)).toBe(1);
    expect(err.message).toBe(`${path}: ${err.reason}`);
  });
});
