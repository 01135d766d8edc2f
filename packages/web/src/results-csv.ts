/**
 * The page's CSV, in the columns and number format of `spine-cli predict` (@spine/models'
 * prediction row), so a CSV from the page and one from the command line can be compared or
 * concatenated. The page does not read what a film records about the patient: those three
 * columns stay empty.
 */
import { PREDICTION_HEADER, formatPredictionRow, type Verdict } from '@spine/models/browser';

export interface FilmResult {
  /** The film's name (its path inside a dropped or chosen folder). */
  file: string;
  /** Absent when the film could not be read or classified. */
  probMale?: number;
  error?: string;
}

export function resultsCsv(rows: readonly FilmResult[], v: Verdict): string {
  return [PREDICTION_HEADER, ...rows.map((r) => formatPredictionRow(r, v))].join('\n') + '\n';
}
