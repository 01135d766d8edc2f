import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isImagingError, readDicomPatientTags } from '../src/index.js';

/** Part 10, explicit VR little endian: the meta header's syntax, a patient module, then pixel data. */
function withPatient(tags: { sex?: string; age?: string }): Uint8Array {
  const parts: Buffer[] = [Buffer.alloc(128), Buffer.from('DICM')];
  const element = (group: number, el: number, vr: string, value: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt16LE(group, 0);
    head.writeUInt16LE(el, 2);
    head.write(vr, 4, 'latin1');
    head.writeUInt16LE(value.length, 6);
    parts.push(head, value);
  };
  const text = (s: string, pad = ' ') => Buffer.from(s.length % 2 ? s + pad : s, 'latin1');
  element(2, 0x10, 'UI', text('1.2.840.10008.1.2.1', '\0'));
  if (tags.sex !== undefined) element(0x10, 0x40, 'CS', text(tags.sex));
  if (tags.age !== undefined) element(0x10, 0x1010, 'AS', text(tags.age));
  const pixels = Buffer.alloc(12 + 64);
  pixels.writeUInt16LE(0x7fe0, 0);
  pixels.writeUInt16LE(0x10, 2);
  pixels.write('OB', 4, 'latin1');
  pixels.writeUInt32LE(64, 8);
  parts.push(pixels);
  return new Uint8Array(Buffer.concat(parts));
}

describe('readDicomPatientTags', () => {
  it('returns PatientSex and PatientAge as recorded, padding trimmed, nothing interpreted', () => {
    expect(readDicomPatientTags(withPatient({ sex: 'F', age: '045Y' }))).toEqual({
      patientSex: 'F',
      patientAge: '045Y',
    });
    expect(readDicomPatientTags(withPatient({ sex: 'f' }))).toEqual({ patientSex: 'f' });
    expect(readDicomPatientTags(withPatient({ sex: 'FEMALE' }))).toEqual({ patientSex: 'FEMALE' });
    expect(readDicomPatientTags(withPatient({ sex: '' }))).toEqual({ patientSex: '' });
    expect(readDicomPatientTags(withPatient({}))).toEqual({});
  });

  it('stops before the pixel data: a file cut inside it still gives its tags', () => {
    const bytes = withPatient({ sex: 'M' });
    expect(readDicomPatientTags(bytes.subarray(0, bytes.length - 40))).toEqual({ patientSex: 'M' });
    // The decoder fixtures carry no patient module.
    const fixture = new Uint8Array(readFileSync(join(import.meta.dirname, 'fixtures', 'mono2-8bit.dcm')));
    expect(readDicomPatientTags(fixture)).toEqual({});
  });

  it('a header that cannot be parsed is an ImagingError naming the file', () => {
    const bytes = withPatient({ sex: 'M', age: '045Y' });
    let err: unknown;
    try {
      readDicomPatientTags(bytes.subarray(0, 150), 'cut.dcm');
    } catch (e) {
      err = e;
    }
    expect(isImagingError(err)).toBe(true);
    expect(String((err as Error).message)).toMatch(/^cut\.dcm: DICOM header is unreadable/);
  });
});
