/**
 * predict's closing lines about recorded sex: how many films record none (the ones to fill in),
 * and how often the prediction agrees where M or F is recorded, with a 95% bootstrap CI
 * (@spine/models' bootstrapAccuracyCI, as evaluate reports accuracy).
 */
import { bootstrapAccuracyCI, PREDICTION_COLUMN as COLUMN } from '@spine/models';

/** Films named in full in a summary line; the rest are counted. */
const NAMED = 10;

export interface RecordedSexTally {
  /** The CSV's rows (PREDICTION_HEADER order). */
  rows: readonly (readonly string[])[];
  /** Files whose PatientSex held a value the standard does not allow, with that value. */
  malformed: readonly { file: string; value: string }[];
  /** Films --only-missing left out, their sex being recorded as M or F. */
  skipped: readonly string[];
  /** Where the recorded sex came from, e.g. 'DICOM PatientSex' or 'labels.csv'. */
  source: string;
}

export function recordedSexSummary(t: RecordedSexTally): string {
  const count = { M: 0, F: 0, O: 0, none: 0 };
  const agree: number[] = [];
  let notCompared = 0;
  for (const r of t.rows) {
    const sex = r[COLUMN.recordedSex] ?? '';
    if (sex === 'M' || sex === 'F') {
      count[sex]++;
      const a = r[COLUMN.agrees];
      if (a === 'yes' || a === 'no') agree.push(a === 'yes' ? 1 : 0);
      else notCompared++;
    } else if (sex === 'O') count.O++;
    else count.none++;
  }
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const lines = [`Recorded sex (${t.source}):`];
  const mf = count.M + count.F;
  let agreement = '';
  if (agree.length > 0) {
    const hits = agree.reduce((a, b) => a + b, 0);
    const [lo, hi] = bootstrapAccuracyCI(agree, { seed: 12345 });
    agreement = `; the prediction agrees for ${hits} of ${agree.length} (${pct(hits / agree.length)}, 95% CI ${pct(lo)} to ${pct(hi)})`;
  }
  const unread = notCompared > 0 ? `; ${notCompared} unreadable, not compared` : '';
  lines.push(`  M or F: ${mf} film(s) (${count.M} M, ${count.F} F)${agreement}${unread}`);
  lines.push(`  O:      ${count.O} film(s) (recorded as other)`);
  lines.push(`  none:   ${count.none} film(s) with no recorded sex: the ones to fill in`);
  if (t.malformed.length > 0) {
    const sorted = [...t.malformed].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    const named = sorted.slice(0, NAMED).map((m) => `${m.file} ${JSON.stringify(m.value)}`);
    const more = t.malformed.length > NAMED ? `, and ${t.malformed.length - NAMED} more` : '';
    lines.push(
      `          ${t.malformed.length} of them hold a value that is not M, F or O, counted as none: ${named.join(', ')}${more}`,
    );
  }
  if (t.skipped.length > 0) {
    const more = t.skipped.length > NAMED ? `, and ${t.skipped.length - NAMED} more` : '';
    lines.push(
      `  skipped (--only-missing, sex recorded as M or F, not in the CSV): ${t.skipped.length} film(s): ${t.skipped.slice(0, NAMED).join(', ')}${more}`,
    );
  }
  return lines.join('\n') + '\n';
}
