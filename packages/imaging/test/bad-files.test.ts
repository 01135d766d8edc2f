import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImage, ImagingError } from '../src/index.js';
import { readImage } from '../src/node.js';
import { chunk, concat, ihdr, SIGNATURE } from './png-writer.js';

const dir = join(import.meta.dirname, 'fixtures');
const fixtures = readdirSync(dir).filter(
  (f) => !f.endsWith('.py') && !f.includes('jpeg-encapsulated') && !f.includes('-jpeg.'),
);

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ImagingError);
    return (e as ImagingError).reason;
  }
  throw new Error('expected an ImagingError');
}

describe('bad input gives an ImagingError naming the file', () => {
  it('empty bytes', () => {
    expect(reasonOf(() => decodeImage(new Uint8Array(0), 'x.png'))).toBe('file is empty');
  });
  it('unknown content', () => {
    expect(reasonOf(() => decodeImage(new TextEncoder().encode('hello world'), 'x.png'))).toMatch(
      /not a recognised image/,
    );
  });
  it.each(fixtures)('%s truncated at several points', (name) => {
    const bytes = readFileSync(join(dir, name));
    for (const frac of [0.1, 0.5, 0.9]) {
      const cut = bytes.subarray(0, Math.max(1, Math.floor(bytes.length * frac)));
      try {
        decodeImage(cut, name);
      } catch (e) {
        expect(e).toBeInstanceOf(ImagingError);
        expect((e as ImagingError).file).toBe(name);
      }
    }
  });
  it('PNG claiming zero or absurd dimensions', () => {
    const withHeader = (w: number, h: number) =>
      concat([
        SIGNATURE,
        ihdr(w, h, 8, 0),
        chunk('IDAT', new Uint8Array([120, 156, 3, 0, 0, 0, 0, 1])),
        chunk('IEND', new Uint8Array(0)),
      ]);
    expect(reasonOf(() => decodeImage(withHeader(0, 2), 'z.png'))).toMatch(/invalid image size 0x2/);
    expect(reasonOf(() => decodeImage(withHeader(60000, 60000), 'h.png'))).toMatch(/above the limit/);
    expect(reasonOf(() => decodeImage(withHeader(70000, 2), 'h.png'))).toMatch(/side above 65,535 pixels/);
  });
  it('TIFF with an absurd width', () => {
    const tif = readFileSync(join(dir, 'grey8-raw.tif'));
    // Find ImageWidth (tag 256, type SHORT or LONG) in the little-endian IFD and corrupt it.
    const v = new DataView(tif.buffer, tif.byteOffset, tif.byteLength);
    const ifd = v.getUint32(4, true);
    const count = v.getUint16(ifd, true);
    for (let i = 0; i < count; i++) {
      const e = ifd + 2 + i * 12;
      if (v.getUint16(e, true) === 256) {
        v.setUint16(e + 2, 4, true);
        v.setUint32(e + 8, 2 ** 31, true);
      }
    }
    expect(reasonOf(() => decodeImage(tif, 'w.tif'))).toMatch(/side above|invalid image size/);
  });
});

describe('readImage (Node file access)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'imaging-'));
  it('a directory given as a file', async () => {
    await expect(readImage(tmp)).rejects.toMatchObject({ name: 'ImagingError', reason: /directory/ });
  });
  it('a missing file', async () => {
    await expect(readImage(join(tmp, 'nope.png'))).rejects.toMatchObject({ reason: 'file not found' });
  });
  it('an empty file', async () => {
    writeFileSync(join(tmp, 'empty.dcm'), '');
    await expect(readImage(join(tmp, 'empty.dcm'))).rejects.toMatchObject({ reason: 'file is empty' });
  });
  it('sniffs content, not the extension', async () => {
    writeFileSync(join(tmp, 'really-a-png.dcm'), readFileSync(join(dir, 'grey8.png')));
    const img = await readImage(join(tmp, 'really-a-png.dcm'));
    expect(img.width).toBe(37);
  });
});
