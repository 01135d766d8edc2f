/**
 * The page's verdict per film and its CSV, in the columns and number format of `spine-cli
 * predict` (file, predicted_sex, probability_male, uncertain, recorded_sex, recorded_age, agrees,
 * error), so a CSV from the page and one from the command line can be compared or concatenated.
 * The page does not read what a film records about the patient: those three columns stay empty.
 */
import type { Verdict } from './model-file.js';

export const CSV_HEADER = 'file,predicted_sex,probability_male,uncertain,recorded_sex,recorded_age,agrees,error';

export interface FilmResult {
  /** The film's name (its path inside a dropped or chosen folder). */
  file: string;
  /** Absent when the film could not be read or classified. */
  probMale?: number;
  error?: string;
}

export interface Call {
  sex: 'F' | 'M';
  /** The probability of the called sex. */
  confidence: number;
  uncertain: boolean;
}

/** predict's rule: M when P(male) >= threshold; uncertain when neither sex reaches uncertainBelow. */
export function callFor(probMale: number, v: Verdict): Call {
  const sex = probMale >= v.threshold ? 'M' : 'F';
  return {
    sex,
    confidence: sex === 'M' ? probMale : 1 - probMale,
    uncertain: Math.max(probMale, 1 - probMale) < v.uncertainBelow,
  };
}

export function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(r: FilmResult, v: Verdict): string {
  const name = csvField(r.file);
  if (r.probMale === undefined) return `${name},,,,,,,${csvField(r.error ?? 'unreadable')}`;
  const c = callFor(r.probMale, v);
  return `${name},${c.sex},${r.probMale.toFixed(6)},${c.uncertain ? 'yes' : 'no'},,,,`;
}

export function resultsCsv(rows: readonly FilmResult[], v: Verdict): string {
  return [CSV_HEADER, ...rows.map((r) => csvRow(r, v))].join('\n') + '\n';
}
