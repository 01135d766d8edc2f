/**
 * Everything a report shows that is already on disk in a run directory: config.json, split.json's
 * per-class counts, metrics.jsonl, and the test evaluation (eval/test-<checkpoint>.json and its
 * predictions CSV). Missing parts come back empty or null; the report says what is absent.
 */
import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { parseCsv, type EpochMetrics, type EvaluationReport } from '@spine/models';
import { CliError } from '../ui/errors.js';
import { readRunRecord, SPLIT_FILE, type RunRecord } from '../run/run-dir.js';

export interface SplitRow {
  split: 'train' | 'val' | 'test';
  female: number;
  male: number;
}

export interface TestPrediction {
  /** Path relative to the data root, as in split.json. */
  file: string;
  /** 0 female, 1 male. */
  label: 0 | 1;
  probMale: number;
}

export interface TestEvaluation {
  checkpoint: 'best' | 'last';
  report: EvaluationReport;
  predictions: TestPrediction[];
}

export interface RunData {
  runDir: string;
  record: RunRecord;
  splits: SplitRow[];
  epochs: EpochMetrics[];
  test: TestEvaluation | null;
}

export async function readRunData(runDir: string): Promise<RunData> {
  const record = await readRunRecord(runDir);
  return {
    runDir,
    record,
    splits: await readSplitCounts(runDir),
    epochs: await readEpochs(runDir),
    test: await readTestEvaluation(runDir),
  };
}

async function readSplitCounts(runDir: string): Promise<SplitRow[]> {
  const path = join(runDir, SPLIT_FILE);
  if (!existsSync(path)) return [];
  const file = parseJson(path, await fs.readFile(path, 'utf8')) as {
    splits?: Record<string, { counts?: { female?: number; male?: number } }>;
  };
  return (['train', 'val', 'test'] as const).map((split) => {
    const c = file.splits?.[split]?.counts;
    if (!c || !Number.isInteger(c.female) || !Number.isInteger(c.male))
      throw new CliError(
        `${path}: no per-class counts for the ${split} split`,
        'The run directory is damaged; train again into a new --out.',
      );
    return { split, female: c.female!, male: c.male! };
  });
}

async function readEpochs(runDir: string): Promise<EpochMetrics[]> {
  const path = join(runDir, 'metrics.jsonl');
  if (!existsSync(path)) return [];
  const lines = (await fs.readFile(path, 'utf8')).split('\n').filter((l) => l.trim() !== '');
  return lines.map((l, i) => {
    const m = parseJson(`${path} line ${i + 1}`, l) as EpochMetrics;
    if (!Number.isInteger(m.epoch) || typeof m.trainLoss !== 'number')
      throw new CliError(`${path} line ${i + 1} is not an epoch record`, 'The run directory is damaged.');
    return m;
  });
}

/** The test evaluation of the best checkpoint, else of the last; null when neither was written. */
export async function readTestEvaluation(runDir: string): Promise<TestEvaluation | null> {
  for (const checkpoint of ['best', 'last'] as const) {
    const json = join(runDir, 'eval', `test-${checkpoint}.json`);
    const csv = join(runDir, 'eval', `test-${checkpoint}-predictions.csv`);
    if (!existsSync(json) || !existsSync(csv)) continue;
    const report = parseJson(json, await fs.readFile(json, 'utf8')) as EvaluationReport;
    let table;
    try {
      table = parseCsv(await fs.readFile(csv, 'utf8'));
    } catch (e) {
      throw new CliError(
        `${csv} ${(e as Error).message} (not a readable CSV)`,
        'Evaluate the run again: spine-cli evaluate --run RUN.',
        { cause: e },
      );
    }
    const col = (name: string) => {
      const i = table.header.indexOf(name);
      if (i < 0)
        throw new CliError(`${csv} has no '${name}' column`, 'Evaluate the run again: spine-cli evaluate --run RUN.');
      return i;
    };
    const [fileCol, sexCol, probCol] = [col('file'), col('true_sex'), col('probability_male')];
    const predictions = table.rows.map((row): TestPrediction => {
      const probMale = Number(row.fields[probCol]);
      const sex = row.fields[sexCol];
      if (!(probMale >= 0 && probMale <= 1) || (sex !== 'F' && sex !== 'M'))
        throw new CliError(
          `${csv} line ${row.line}: expected true_sex F/M and probability_male in [0, 1]`,
          'Evaluate the run again: spine-cli evaluate --run RUN.',
        );
      return { file: row.fields[fileCol] ?? '', label: sex === 'M' ? 1 : 0, probMale };
    });
    return { checkpoint, report, predictions };
  }
  return null;
}

function parseJson(where: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError(
      `${where} is not valid JSON (${(e as Error).message})`,
      'The run directory is damaged; train again into a new --out.',
    );
  }
}
