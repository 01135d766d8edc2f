/**
 * Tiny image files for data-layer tests, written into temp dirs: PNG through @spine/imaging, and
 * minimal uncompressed TIFF and DICOM (explicit VR little endian) written by hand so no fixture
 * files need committing.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { encodePng, imageFromGrey8 } from '@spine/imaging';

/** A w x h 8-bit grey gradient whose pixel values depend on `seed` (so files differ). */
export function greyPixels(w: number, h: number, seed = 0): Uint8Array {
  const px = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px[y * w + x] = (x * 7 + y * 3 + seed * 29) & 0xff;
  return px;
}

export function pngBytes(w: number, h: number, seed = 0): Uint8Array {
  return encodePng(imageFromGrey8(w, h, greyPixels(w, h, seed)));
}

/** Baseline TIFF: little endian, 8-bit grey, one uncompressed strip. */
export function tiffBytes(w: number, h: number, seed = 0): Uint8Array {
  const px = greyPixels(w, h, seed);
  const entries: [number, number, number, number][] = [
    // tag, type (3 SHORT, 4 LONG), count, value
    [256, 4, 1, w],
    [257, 4, 1, h],
    [258, 3, 1, 8],
    [259, 3, 1, 1],
    [262, 3, 1, 1],
    [273, 4, 1, 0], // strip offset, patched below
    [277, 3, 1, 1],
    [278, 4, 1, h],
    [279, 4, 1, px.length],
  ];
  const ifdSize = 2 + entries.length * 12 + 4;
  const dataOffset = 8 + ifdSize;
  entries[5]![3] = dataOffset;
  const buf = new Uint8Array(dataOffset + px.length);
  const v = new DataView(buf.buffer);
  buf.set([0x49, 0x49, 0x2a, 0x00]);
  v.setUint32(4, 8, true);
  v.setUint16(8, entries.length, true);
  entries.forEach(([tag, type, count, value], i) => {
    const o = 10 + i * 12;
    v.setUint16(o, tag, true);
    v.setUint16(o + 2, type, true);
    v.setUint32(o + 4, count, true);
    if (type === 3) v.setUint16(o + 8, value, true);
    else v.setUint32(o + 8, value, true);
  });
  buf.set(px, dataOffset);
  return buf;
}

/** Part 10 DICOM, explicit VR little endian, 8-bit MONOCHROME2. */
export function dicomBytes(w: number, h: number, seed = 0): Uint8Array {
  const parts: Uint8Array[] = [new Uint8Array(128), new TextEncoder().encode('DICM')];
  const short = (group: number, el: number, vr: string, value: Uint8Array): void => {
    const head = new Uint8Array(8);
    const v = new DataView(head.buffer);
    v.setUint16(0, group, true);
    v.setUint16(2, el, true);
    head[4] = vr.charCodeAt(0);
    head[5] = vr.charCodeAt(1);
    v.setUint16(6, value.length, true);
    parts.push(head, value);
  };
  const us = (n: number): Uint8Array => new Uint8Array([n & 0xff, n >> 8]);
  const str = (s: string): Uint8Array => new TextEncoder().encode(s.length % 2 ? `${s}\0` : s);
  short(0x0002, 0x0010, 'UI', str('1.2.840.10008.1.2.1'));
  short(0x0028, 0x0002, 'US', us(1));
  short(0x0028, 0x0004, 'CS', str('MONOCHROME2 '));
  short(0x0028, 0x0010, 'US', us(h));
  short(0x0028, 0x0011, 'US', us(w));
  short(0x0028, 0x0100, 'US', us(8));
  short(0x0028, 0x0101, 'US', us(8));
  short(0x0028, 0x0102, 'US', us(7));
  short(0x0028, 0x0103, 'US', us(0));
  const px = greyPixels(w, h, seed);
  const padded = new Uint8Array(px.length + (px.length % 2));
  padded.set(px);
  const head = new Uint8Array(12);
  const v = new DataView(head.buffer);
  v.setUint16(0, 0x7fe0, true);
  v.setUint16(2, 0x0010, true);
  head[4] = 0x4f; // 'O'
  head[5] = 0x42; // 'B'
  v.setUint32(8, padded.length, true);
  parts.push(head, padded);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A fresh temp dir; call the returned cleanup in afterEach/afterAll. */
export function tempDir(prefix = 'spine-data-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes bytes or text at dir/rel, creating folders. */
export function put(dir: string, rel: string, content: Uint8Array | string): string {
  const path = join(dir, rel);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return path;
}

/** Repository paths of the committed synthetic sample. */
export const SAMPLE = new URL('../../../../test-data/sample/', import.meta.url).pathname;
