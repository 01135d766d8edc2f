/**
 * The prediction CSV's columns and rows, as `spine-cli predict` and the web page write them, so
 * the CSVs of the two can be compared or concatenated. The recorded columns hold what a film
 * records about the patient (DICOM PatientSex/PatientAge); the page leaves them empty.
 */
import { callFor, type Verdict } from './verdict.js';

export const PREDICTION_HEADER = 'file,predicted_sex,probability_male,uncertain,recorded_sex,recorded_age,agrees,error';

/** Column positions in PREDICTION_HEADER. */
export const PREDICTION_COLUMN = {
  file: 0,
  predictedSex: 1,
  probabilityMale: 2,
  recordedSex: 4,
  agrees: 6,
  error: 7,
} as const;

export interface PredictionRow {
  file: string;
  /** Absent when the film could not be read. */
  probMale?: number;
  error?: string;
  /** What the film records about the patient: sex 'M', 'F' or '' and age as recorded. */
  recorded?: { sex: string; age: string };
}

/** A CSV field, quoted when it holds a quote, comma or line break. */
export function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function formatPredictionRow(row: PredictionRow, v: Verdict): string {
  const name = csvField(row.file);
  const sex = row.recorded?.sex ?? '';
  const recorded = `${sex},${csvField(row.recorded?.age ?? '')}`;
  if (row.probMale === undefined) return `${name},,,,${recorded},,${csvField(row.error ?? 'unreadable')}`;
  const pm = row.probMale;
  const call = callFor(pm, v);
  const agrees = sex === 'M' || sex === 'F' ? (sex === call.sex ? 'yes' : 'no') : '';
  return `${name},${call.sex},${pm.toFixed(6)},${call.uncertain ? 'yes' : 'no'},${recorded},${agrees},`;
}
