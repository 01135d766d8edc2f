/**
 * What predicted a CSV's rows: the run's config hash, a hash of the checkpoint's weights and the
 * verdict's thresholds. It lives in a sidecar beside the CSV (`<csv>.predicted-by.json`) so the CSV
 * keeps predict's plain columns (the web page writes the same ones). predict refuses to continue a
 * CSV that another model or threshold began, and predict merge refuses shards that differ: rows of
 * two checkpoints in one CSV would look like one model's results.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type Verdict, writeFileAtomic } from '@spine/models';
import type { Checkpoint } from '../run/checkpoint.js';
import { CliError } from '../ui/errors.js';

const FORMAT = 'spine-predicted-by';

export interface PredictedBy {
  /** The checkpoint's safetensors file, for people: copies of a run keep the name. */
  checkpoint: string;
  /** The run's config hash, as the checkpoint records it. */
  configHash: string;
  /** sha256 of the model's state dict (names, shapes, dtypes, values): what the rows came from. */
  weights: string;
  threshold: number;
  uncertainBelow: number;
}

/** The fields that must agree, each with how a difference reads. */
const COMPARED: readonly { key: keyof PredictedBy; what: string }[] = [
  { key: 'weights', what: 'checkpoint weights' },
  { key: 'configHash', what: 'run config' },
  { key: 'threshold', what: '--threshold' },
  { key: 'uncertainBelow', what: '--uncertain-below' },
];

export function predictedBy(ckpt: Checkpoint, verdict: Verdict): PredictedBy {
  const hash = createHash('sha256');
  for (const key of [...ckpt.model.keys()].sort()) {
    const t = ckpt.model.get(key)!;
    hash.update(`${key}\0${t.data.constructor.name}\0${t.shape.join(',')}\0`);
    hash.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return {
    checkpoint: ckpt.meta.tensors,
    configHash: ckpt.meta.configHash,
    weights: hash.digest('hex'),
    threshold: verdict.threshold,
    uncertainBelow: verdict.uncertainBelow,
  };
}

export function predictedByPath(csv: string): string {
  return `${csv}.predicted-by.json`;
}

/** The sidecar of `csv`, or undefined when it has none (a CSV from before predict wrote one). */
export async function readPredictedBy(csv: string): Promise<PredictedBy | undefined> {
  const path = predictedByPath(csv);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(`${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch {
    v = {};
  }
  const ok =
    v.format === FORMAT &&
    typeof v.checkpoint === 'string' &&
    typeof v.configHash === 'string' &&
    typeof v.weights === 'string' &&
    typeof v.threshold === 'number' &&
    typeof v.uncertainBelow === 'number';
  if (!ok)
    throw new CliError(
      `${path} is not the record of what predicted ${csv}`,
      'It is written by spine-cli predict beside its CSV; restore it from the same place as the CSV, or delete it.',
    );
  const { checkpoint, configHash, weights, threshold, uncertainBelow } = v as unknown as PredictedBy;
  return { checkpoint, configHash, weights, threshold, uncertainBelow };
}

export async function writePredictedBy(csv: string, by: PredictedBy): Promise<void> {
  await writeFileAtomic(predictedByPath(csv), JSON.stringify({ format: FORMAT, version: 1, ...by }, null, 1) + '\n');
}

/** The first field in which `a` and `b` differ, in words with both values; undefined when they agree. */
export function predictedByDifference(a: PredictedBy, b: PredictedBy): string | undefined {
  const field = COMPARED.find((f) => a[f.key] !== b[f.key]);
  if (field === undefined) return undefined;
  const show = (p: PredictedBy) =>
    field.key === 'weights'
      ? `${p.checkpoint} (weights sha256 ${p.weights.slice(0, 12)})`
      : field.key === 'configHash'
        ? `config hash ${p.configHash}`
        : String(p[field.key]);
  return `the ${field.what} differ: ${show(a)} vs ${show(b)}`;
}

/**
 * Before predict adds rows to an archive CSV that already has some: refuses when another model or
 * threshold predicted them, warns when the CSV does not say what did.
 */
export async function checkContinuedCsv(csv: string, by: PredictedBy): Promise<void> {
  const before = await readPredictedBy(csv);
  if (before === undefined) {
    process.stderr.write(
      `${predictedByPath(csv)} is missing, so which model predicted the rows already in ${csv} is unknown; continuing with ${by.checkpoint}\n`,
    );
    return;
  }
  const difference = predictedByDifference(before, by);
  if (difference !== undefined)
    throw new CliError(
      `${csv} was begun with another model or verdict than this command's: ${difference}`,
      'Continue it with the --run, --checkpoint, --threshold and --uncertain-below it was begun with, or write to another --out.',
    );
}
