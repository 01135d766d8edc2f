/**
 * A run's test evaluation as files (eval/<name>.json and eval/<name>-predictions.csv): the report
 * and one row per film with its true and predicted sex and P(male). spine-cli report reads them.
 */
import type { EvaluationResult } from '../train/evaluate.js';
import { csvField } from './prediction-csv.js';

export const EVALUATION_CSV_HEADER = 'file,true_sex,predicted_sex,probability_male';

export function evaluationFiles(
  name: string,
  ev: EvaluationResult,
  extra: Record<string, unknown>,
): { json: { path: string; text: string }; csv: { path: string; text: string } } {
  const rows = ev.predictions.map(
    (p) =>
      `${csvField(p.file)},${p.label === 1 ? 'M' : 'F'},${p.probMale >= ev.report.threshold ? 'M' : 'F'},${p.probMale.toFixed(6)}`,
  );
  return {
    json: { path: `eval/${name}.json`, text: JSON.stringify({ ...extra, ...ev.report }, null, 2) + '\n' },
    csv: { path: `eval/${name}-predictions.csv`, text: [EVALUATION_CSV_HEADER, ...rows].join('\n') + '\n' },
  };
}
