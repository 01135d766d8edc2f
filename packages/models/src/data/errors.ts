/**
 * One problem with one row or file of a dataset. `line` is the 1-based line of the labels CSV
 * where the row starts (absent for folder datasets and dataset-wide problems), so a user can open
 * the CSV at that line.
 */
export interface DatasetProblem {
  readonly file: string;
  readonly line?: number;
  readonly problem: string;
}

/** How many problems the message lists before summarising the rest (the full list is on `.problems`). */
const MESSAGE_LIMIT = 50;

/**
 * The one error @spine/models' data layer throws for bad data: labels, files, splits, caches or a
 * worker that failed on a file. Validation collects every problem before throwing, so one run
 * shows the user everything to fix instead of one problem per attempt.
 */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
  readonly problems: readonly DatasetProblem[];

  constructor(summary: string, problems: readonly DatasetProblem[], options?: { cause?: unknown }) {
    super(formatMessage(summary, problems), options);
    this.problems = problems;
  }
}

/** True for errors raised by the data layer (use instead of instanceof across bundle copies). */
export function isDatasetError(e: unknown): e is DatasetError {
  return e instanceof Error && e.name === 'DatasetError' && Array.isArray((e as DatasetError).problems);
}

function formatMessage(summary: string, problems: readonly DatasetProblem[]): string {
  if (problems.length === 0) return summary;
  const shown = problems.slice(0, MESSAGE_LIMIT).map((p) => `  ${formatProblem(p)}`);
  if (problems.length > MESSAGE_LIMIT) shown.push(`  ... and ${problems.length - MESSAGE_LIMIT} more`);
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return `${summary} (${count}):\n${shown.join('\n')}`;
}

/** `line 12: film.png: problem` — the line is the labels CSV's, the file the image the row names. */
export function formatProblem(p: DatasetProblem): string {
  return p.line === undefined ? `${p.file}: ${p.problem}` : `line ${p.line}: ${p.file}: ${p.problem}`;
}
