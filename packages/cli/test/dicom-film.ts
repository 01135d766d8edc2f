/**
 * Tiny DICOM Part 10 films (explicit VR little endian, 8-bit MONOCHROME2) with a chosen patient
 * module, written here because the tests need PatientSex values that real writers refuse to make
 * (lowercase, over-long, empty). Follows PS3.10 and PS3.5: elements in tag order, values padded to
 * an even length (text with a space, UIDs with NUL).
 */
import { writeFileSync } from 'node:fs';

export interface DicomFilmOptions {
  /** (0010,0040) PatientSex exactly as stored (before padding); absent when undefined. */
  sex?: string;
  /** (0010,1010) PatientAge; absent when undefined. */
  age?: string;
  /** Pixel pattern, so films differ. */
  seed?: number;
  size?: number;
  /** Bytes of a private element (0009,1000) before the patient module: a header longer than a quick read. */
  privateBytes?: number;
}

export function dicomFilm(options: DicomFilmOptions = {}): Buffer {
  const parts: Buffer[] = [Buffer.alloc(128), Buffer.from('DICM')];
  const element = (group: number, el: number, vr: string, value: Buffer): void => {
    const head = Buffer.alloc(8);
    head.writeUInt16LE(group, 0);
    head.writeUInt16LE(el, 2);
    head.write(vr, 4, 'latin1');
    head.writeUInt16LE(value.length, 6);
    parts.push(head, value);
  };
  const text = (s: string, pad = ' ') => Buffer.from(s.length % 2 ? s + pad : s, 'latin1');
  const us = (n: number) => {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(n);
    return b;
  };
  const n = options.size ?? 16;
  element(0x0002, 0x0010, 'UI', text('1.2.840.10008.1.2.1', '\0'));
  if (options.privateBytes !== undefined) {
    const head = Buffer.alloc(12);
    head.writeUInt16LE(0x0009, 0);
    head.writeUInt16LE(0x1000, 2);
    head.write('OB', 4, 'latin1');
    const n = options.privateBytes + (options.privateBytes % 2);
    head.writeUInt32LE(n, 8);
    parts.push(head, Buffer.alloc(n, 0x55));
  }
  if (options.sex !== undefined) element(0x0010, 0x0040, 'CS', text(options.sex));
  if (options.age !== undefined) element(0x0010, 0x1010, 'AS', text(options.age));
  element(0x0028, 0x0002, 'US', us(1));
  element(0x0028, 0x0004, 'CS', text('MONOCHROME2'));
  element(0x0028, 0x0010, 'US', us(n));
  element(0x0028, 0x0011, 'US', us(n));
  element(0x0028, 0x0100, 'US', us(8));
  element(0x0028, 0x0101, 'US', us(8));
  element(0x0028, 0x0102, 'US', us(7));
  element(0x0028, 0x0103, 'US', us(0));
  const seed = options.seed ?? 0;
  const px = Buffer.alloc(n * n + ((n * n) % 2));
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) px[y * n + x] = (x * 11 + y * 7 + seed * 37) % 256;
  const head = Buffer.alloc(12);
  head.writeUInt16LE(0x7fe0, 0);
  head.writeUInt16LE(0x0010, 2);
  head.write('OB', 4, 'latin1');
  head.writeUInt32LE(px.length, 8);
  parts.push(head, px);
  return Buffer.concat(parts);
}

export function writeDicomFilm(path: string, options: DicomFilmOptions = {}): void {
  writeFileSync(path, dicomFilm(options));
}
