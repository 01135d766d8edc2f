/**
 * The numbers of the study's tables, read from the run folders: each run's test evaluation (the
 * eval/ files that train and evaluate write; what `evaluate --json` prints), a bootstrap interval
 * of its AUC, and the paired tests between two approaches on the films both were tested on.
 */
import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import { bootstrapAucCI, delongTest, isDenseNetConfig, mcnemarTest } from '@spine/models';
import type { DeLongComparison, EvaluationReport, McNemarResult } from '@spine/models';
import { readTestEvaluation, type TestPrediction } from '../report/run-data.js';
import { readRunRecord } from '../run/run-dir.js';
import type { Region } from './settings.js';

export const APPROACHES = ['seqcnn-full', 'seqcnn-roi', 'densenet121'] as const;
export type Approach = (typeof APPROACHES)[number];

export const APPROACH_NAMES: Record<Approach, string> = {
  'seqcnn-full': 'sequential CNN, original films',
  'seqcnn-roi': 'sequential CNN, CBIR ROI crops',
  densenet121: 'DenseNet-121',
};

export interface RunResult {
  region: Region;
  approach: Approach;
  /** The run folder, relative to the study folder. */
  run: string;
  checkpoint: 'best' | 'last';
  report: EvaluationReport;
  aucCI95: [number, number];
  predictions: TestPrediction[];
  /** What the network started from, from the run's config.json: 'random init' or the weights. */
  startedFrom: string;
  /** Input size (px) and epochs, from the run's config.json. */
  inputSize: number;
  epochs: number;
}

export interface PairedResult {
  region: Region;
  a: Approach;
  b: Approach;
  /** Test films both runs predicted (matched by name without extension: a crop keeps its film's name). */
  films: number;
  accuracyA: number;
  accuracyB: number;
  mcnemar: McNemarResult;
  /** null when the shared films lack two of each sex. */
  delong: DeLongComparison | null;
}

export async function readRunResult(
  studyDir: string,
  region: Region,
  approach: Approach,
  seed: number,
): Promise<RunResult | null> {
  const run = `${region}/${approach}`;
  const dir = join(studyDir, run);
  if (!existsSync(dir)) return null;
  const test = await readTestEvaluation(dir);
  if (!test) return null;
  const record = await readRunRecord(dir);
  const labels = test.predictions.map((p) => p.label);
  const probs = test.predictions.map((p) => p.probMale);
  const m = record.config.model;
  const startedFrom =
    isDenseNetConfig(m) && m.weights !== 'none'
      ? m.weights === 'imagenet'
        ? 'ImageNet weights'
        : m.weights
      : 'random init';
  return {
    region,
    approach,
    run,
    checkpoint: test.checkpoint,
    report: test.report,
    aucCI95: bootstrapAucCI(labels, probs, { seed }),
    predictions: test.predictions,
    startedFrom,
    inputSize: m.inputSize,
    epochs: record.config.epochs,
  };
}

const stem = (file: string) => (extname(file) ? file.slice(0, -extname(file).length) : file);

export function pairedResult(a: RunResult, b: RunResult): PairedResult {
  const inB = new Map(b.predictions.map((p) => [stem(p.file), p]));
  const pairs = a.predictions.flatMap((p) => {
    const q = inB.get(stem(p.file));
    return q && q.label === p.label ? [[p, q] as const] : [];
  });
  const correct = (p: TestPrediction, threshold: number) => (p.probMale >= threshold ? 1 : 0) === p.label;
  const ca = pairs.map(([p]) => correct(p, a.report.threshold));
  const cb = pairs.map(([, q]) => correct(q, b.report.threshold));
  const labels = pairs.map(([p]) => p.label);
  const males = labels.filter((l) => l === 1).length;
  const delong =
    males >= 2 && labels.length - males >= 2
      ? delongTest(
          labels,
          pairs.map(([p]) => p.probMale),
          pairs.map(([, q]) => q.probMale),
        )
      : null;
  const share = (c: boolean[]) => (c.length ? c.filter(Boolean).length / c.length : NaN);
  return {
    region: a.region,
    a: a.approach,
    b: b.approach,
    films: pairs.length,
    accuracyA: share(ca),
    accuracyB: share(cb),
    mcnemar: mcnemarTest(ca, cb),
    delong,
  };
}

/** Every pair of a region's approaches that both have results, in APPROACHES order. */
export function regionPairs(results: readonly RunResult[]): PairedResult[] {
  const out: PairedResult[] = [];
  for (let i = 0; i < results.length; i++)
    for (let j = i + 1; j < results.length; j++) out.push(pairedResult(results[i]!, results[j]!));
  return out;
}
