/**
 * A run directory: config.json, split.json, metrics.jsonl, checkpoints/, eval/. Helpers shared by
 * train, evaluate and predict: read the recorded config, rebuild the model, load the split,
 * evaluate a split and write eval/ atomically. Checkpoints: checkpoint.ts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  buildModel as buildNetwork,
  evaluationFiles,
  DataLoader,
  inputTransform,
  loadCsvDataset,
  loadFolderDataset,
  loadSplit,
  writeFileAtomic,
  type Dataset,
  type DatasetRecord,
  type DatasetSplit,
  type EvaluationResult,
  type RunModel,
} from '@spine/models';
import { manualSeed, ready } from '@spine/tensor/node';
import { CliError } from '../ui/errors.js';
import { hashedConfig, resolveStoredDataPaths, runConfigProblem, storedDataPaths, type RunConfig } from './config.js';

export const CONFIG_FILE = 'config.json';
export const SPLIT_FILE = 'split.json';

/**
 * config.json: the resolved configuration plus provenance. Version 2 stores the data paths
 * portably (storedDataPaths: relative to the run directory inside its repository); in memory,
 * after readRunRecord, they are absolute.
 */
export interface RunRecord {
  format: 'spine-run';
  version: 1 | 2;
  config: RunConfig;
  /** The data paths, absolute, when the run was made (version 2): the fallback if a relative one no longer resolves. */
  dataAtCreation?: RunConfig['data'];
  createdAt: string;
  command: string[];
  packageVersions: Record<string, string>;
  gitCommit: string | null;
  adapter: unknown;
  /** The weights a DenseNet run started from (absent in older runs and for random init). */
  pretrained?: { file: string; label: string } | null;
}

export async function readRunRecord(runDir: string): Promise<RunRecord> {
  const path = join(runDir, CONFIG_FILE);
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch {
    throw new CliError(
      `${resolve(runDir)} is not a spine-cli run directory (no ${CONFIG_FILE})`,
      "Pass the folder a 'spine-cli train --out RUN' wrote.",
    );
  }
  let record: RunRecord;
  try {
    record = JSON.parse(text) as RunRecord;
    if (record.format !== 'spine-run' || typeof record.config !== 'object') throw new Error('not a run record');
    record.config.data = resolveStoredDataPaths(record.config.data, runDir, record.dataAtCreation);
  } catch {
    throw new CliError(
      `${path} is not a valid spine-cli run configuration`,
      'It may be damaged; train again into a new --out.',
    );
  }
  const problem = runConfigProblem(record.config);
  if (problem)
    throw new CliError(`${path}: ${problem}`, 'The run configuration is damaged; train again into a new --out.');
  return record;
}

/** config.json's text for a record whose paths are absolute (in memory): data paths stored portably. */
export function runRecordJson(record: RunRecord, runDir: string): string {
  const onDisk: RunRecord =
    record.version === 1
      ? record
      : {
          ...record,
          config: { ...record.config, data: storedDataPaths(record.config.data, runDir) },
          dataAtCreation: record.config.data,
        };
  return JSON.stringify(onDisk, null, 2) + '\n';
}

/** The configuration the trainer hashes into checkpoints, for a record read or made here. */
export function runConfigHashInput(record: RunRecord, runDir: string): unknown {
  return hashedConfig(record.config, record.version === 1 ? undefined : runDir);
}

/**
 * Acquires the device; no adapter becomes a CliError carrying @spine/tensor's install advice
 * (its message), so the user sees what to install rather than a "bug" line.
 */
export async function readyDevice(): Promise<void> {
  try {
    await ready();
  } catch (e) {
    if (e instanceof Error && e.name === 'NoAdapterError')
      throw new CliError(e.message, "Run 'spine-cli doctor' for details.", { cause: e });
    throw e;
  }
}

/** The git commit of the working directory's repository, or null. */
export function gitCommit(): string | null {
  try {
    return (
      execFileSync('git', ['rev-parse', 'HEAD'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 5000,
      }).trim() || null
    );
  } catch {
    return null;
  }
}

/**
 * The model of a run, seeded so the same config and seed start from the same weights. A DenseNet
 * starts from torchvision's random init here; train loads its pretrained weights, and evaluate and
 * predict replace everything with a checkpoint.
 */
export function buildModel(config: RunConfig): RunModel {
  manualSeed(config.seed);
  return buildNetwork(config.model);
}

/** The run's dataset (checked by header only: the run already validated it) and its split.json. */
export async function loadRunSplit(runDir: string, config: RunConfig): Promise<DatasetSplit> {
  const path = join(runDir, SPLIT_FILE);
  if (!existsSync(path))
    throw new CliError(`${path} is missing`, 'The run directory is incomplete; train again into a new --out.');
  const dataset = await loadData(config, 'header');
  return loadSplit(path, dataset);
}

export async function loadData(config: RunConfig, imageCheck: 'header' | 'auto', maxPixels?: number): Promise<Dataset> {
  const root = config.data.root;
  if (!existsSync(root))
    throw new CliError(`data folder ${root} does not exist`, 'Pass the folder that holds the images with --data.');
  if (config.data.labels !== null || existsSync(join(root, 'labels.csv'))) {
    return loadCsvDataset(root, {
      ...(config.data.labels !== null ? { labels: config.data.labels } : {}),
      imageCheck,
      maxPixels,
    });
  }
  return loadFolderDataset(root, { imageCheck, maxPixels });
}

export function evaluationLoader(
  records: readonly DatasetRecord[],
  config: RunConfig,
  workers: number | undefined,
  cacheDir: string | undefined,
  maxPixels?: number,
): DataLoader {
  return new DataLoader(records, {
    batchSize: Math.max(config.batchSize, 32),
    transform: inputTransform(config.model),
    shuffle: false,
    ...(workers !== undefined ? { workers } : {}),
    ...(cacheDir !== undefined ? { cacheDir } : {}),
    ...(maxPixels !== undefined ? { maxPixels } : {}),
  });
}

/** Writes eval/<split>-<checkpoint>.json and .csv (predictions) atomically; returns the paths. */
export async function writeEvaluation(
  runDir: string,
  name: string,
  ev: EvaluationResult,
  extra: Record<string, unknown>,
): Promise<{ json: string; csv: string }> {
  await fs.mkdir(join(runDir, 'eval'), { recursive: true });
  const files = evaluationFiles(name, ev, extra);
  const json = join(runDir, files.json.path);
  const csv = join(runDir, files.csv.path);
  // The CSV first: the report is what says the evaluation is complete.
  await writeFileAtomic(csv, files.csv.text);
  await writeFileAtomic(json, files.json.text);
  return { json, csv };
}
