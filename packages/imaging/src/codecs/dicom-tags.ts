import dicomParser from 'dicom-parser';
import { ImagingError } from '../errors.js';

/**
 * What a DICOM header says about the patient, as recorded: values with their padding spaces
 * trimmed, undefined when the element is absent. Nothing is interpreted here (a lowercase or
 * non-standard PatientSex comes back as written); callers decide what a value means.
 */
export interface DicomPatientTags {
  /** (0010,0040) PatientSex; the standard allows M, F, O or empty. */
  patientSex?: string;
  /** (0010,1010) PatientAge; the standard's form is nnnD, nnnW, nnnM or nnnY. */
  patientAge?: string;
}

/**
 * Reads the patient's sex and age from a DICOM header. The pixel data is never touched, so `bytes`
 * may be just the start of the file: parsing stops at (7FE0,0010). Throws an ImagingError when the
 * header cannot be parsed (a caller that passed a prefix retries with the whole file: the header
 * may be longer than the prefix).
 */
export function readDicomPatientTags(bytes: Uint8Array, file = '<memory>'): DicomPatientTags {
  let ds: dicomParser.DataSet;
  try {
    ds = dicomParser.parseDicom(bytes, { untilTag: 'x7fe00010' });
  } catch (e) {
    const detail =
      typeof e === 'string'
        ? e
        : e instanceof Error
          ? e.message
          : String((e as { exception?: unknown })?.exception ?? e);
    throw new ImagingError(file, `DICOM header is unreadable (${detail.replace(/^dicomParser[.:]\w+: /, '')})`, {
      cause: e,
    });
  }
  const text = (tag: string): string | undefined => (ds.elements[tag] ? (ds.string(tag) ?? '').trim() : undefined);
  const out: DicomPatientTags = {};
  const sex = text('x00100040');
  const age = text('x00101010');
  if (sex !== undefined) out.patientSex = sex;
  if (age !== undefined) out.patientAge = age;
  return out;
}
