import { describe, expect, it } from 'vitest';
import { decodeImage, toGrey } from '../src/index.js';

/** A minimal Part 10 DICOM (explicit VR little endian) with RGB native pixel data. */
function rgbDicom(
  width: number,
  height: number,
  bits: 8 | 16,
  planar: boolean,
  sample: (i: number) => number,
): Uint8Array {
  const parts: Uint8Array[] = [];
  const element = (group: number, el: number, vr: string, value: Uint8Array) => {
    const long = vr === 'OB' || vr === 'OW';
    const head = new Uint8Array(long ? 12 : 8);
    const v = new DataView(head.buffer);
    v.setUint16(0, group, true);
    v.setUint16(2, el, true);
    head.set([vr.charCodeAt(0), vr.charCodeAt(1)], 4);
    if (long) v.setUint32(8, value.length, true);
    else v.setUint16(6, value.length, true);
    parts.push(head, value);
  };
  const us = (n: number) => new Uint8Array(new Uint16Array([n]).buffer);
  const text = (s: string) => new TextEncoder().encode(s.length % 2 ? `${s}\0` : s);
  const syntax = text('1.2.840.10008.1.2.1');
  element(2, 0, 'UL', new Uint8Array(new Uint32Array([8 + syntax.length]).buffer));
  element(2, 0x10, 'UI', syntax);
  element(0x28, 2, 'US', us(3));
  element(0x28, 4, 'CS', text('RGB'));
  element(0x28, 6, 'US', us(planar ? 1 : 0));
  element(0x28, 0x10, 'US', us(height));
  element(0x28, 0x11, 'US', us(width));
  element(0x28, 0x100, 'US', us(bits));
  element(0x28, 0x101, 'US', us(bits));
  element(0x28, 0x103, 'US', us(0));
  const n = width * height * 3;
  const pixels =
    bits === 8
      ? Uint8Array.from({ length: n }, (_, i) => sample(i))
      : new Uint8Array(Uint16Array.from({ length: n }, (_, i) => sample(i)).buffer);
  element(0x7fe0, 0x10, bits === 8 ? 'OB' : 'OW', pixels);
  const out = new Uint8Array(132 + parts.reduce((s, p) => s + p.length, 0));
  out.set(new TextEncoder().encode('DICM'), 128);
  let at = 132;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe('RGB DICOM', () => {
  it.each([
    [8, false],
    [8, true],
    [16, false],
    [16, true],
  ] as const)(
    '%i-bit, planar %s: colour as stored, and straight to grey equal to toGrey bit for bit',
    (bits, planar) => {
      const [w, h] = [7, 5];
      const max = bits === 8 ? 250 : 60000;
      const sample = (i: number) => 10 + ((i * 7919) % (max - 10));
      const img = decodeImage(rgbDicom(w, h, bits, planar, sample), 'rgb.dcm');
      expect([img.width, img.height, img.channels]).toEqual([w, h, 3]);
      // No VOI window: the samples' own range is stretched to [0, 1].
      const values = Array.from({ length: w * h * 3 }, (_, i) => sample(i));
      const [lo, hi] = [Math.min(...values), Math.max(...values)];
      for (let p = 0; p < w * h; p++) {
        for (let c = 0; c < 3; c++) {
          const stored = sample(planar ? c * w * h + p : 3 * p + c);
          expect(img.data[3 * p + c]).toBeCloseTo((stored - lo) / (hi - lo), 6);
        }
      }
      const grey = decodeImage(rgbDicom(w, h, bits, planar, sample), 'rgb.dcm', { grey: true });
      expect(grey.channels).toBe(1);
      expect(Buffer.from(grey.data.buffer).equals(Buffer.from(toGrey(img).data.buffer))).toBe(true);
    },
  );
});
