// A PNG's decoded grey pixels, to compare films by content: the encoder's bytes (filters, deflate)
// may differ between runs of different code without the films differing.
import { readFileSync } from 'node:fs';
import { decodePng } from '@spine/imaging';

export function pngPixels(file: string): Uint8Array {
  const img = decodePng(readFileSync(file), file, { grey: true });
  return Uint8Array.from(img.data, (v) => Math.round(v * (2 ** img.bitDepth - 1)));
}

export function samePixels(a: string, b: string): boolean {
  return Buffer.from(pngPixels(a)).equals(Buffer.from(pngPixels(b)));
}
