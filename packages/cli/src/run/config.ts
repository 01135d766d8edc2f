/**
 * The resolved configuration of a training run (what config.json records), the presets and the
 * portability of its data paths. The network spec itself is @spine/models' (run/spec.ts).
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DENSENET_ARCHS,
  isDenseNetConfig,
  PAPER_SEQCNN,
  quickTrainingSettings,
  type SequentialCnnConfig,
  type TrainingSettings,
  type DenseNetArch,
  type DenseNetModelConfig,
} from '@spine/models/run';
import { SAMPLE } from '@spine/test-data/sample-spec';
import { quickStartDataDir, syntheticSetDir } from './synthetic-sets.js';

export const PRESETS = [
  'quick',
  'paper-seqcnn',
  'paper-seqcnn-roi',
  'paper-densenet-cervical',
  'paper-densenet-lumbar',
] as const;
export type PresetName = (typeof PRESETS)[number];

/**
 * Everything that defines a run; config.json holds it (plus provenance): how the network is
 * trained (@spine/models' TrainingSettings, what the quick preset and the web page share), the
 * preset it came from and the data.
 */
export interface RunConfig extends TrainingSettings {
  preset: PresetName;
  data: { root: string; labels: string | null };
  /**
   * 'mixed': trained under autocast with dynamic loss scaling (@spine/models' precision option).
   * Absent for f32, so that f32 runs keep the config hash they had before the option existed.
   */
  precision?: 'mixed';
}

/**
 * The synthetic cervical (or lumbar) sample that the paper presets default to: the committed one
 * in a repository checkout, otherwise the same films generated into the cache on first use
 * (synthetic-sets.ts; an installed spine-cli does not ship the sample).
 */
export function bundledSample(region: 'cervical' | 'lumbar' = 'cervical'): string {
  const candidates = [
    fileURLToPath(new URL(`../../../../test-data/sample/${region}`, import.meta.url)),
    resolve(`test-data/sample/${region}`),
  ];
  return candidates.find((c) => existsSync(join(c, 'labels.csv'))) ?? syntheticSetDir({ region, ...SAMPLE[region] });
}

/**
 * The presets. paper-seqcnn: Xue et al.'s settings (227 px, batch 10, 60 epochs, SGD momentum 0.9,
 * weight decay 5e-4, lr 0.001 "reduced three times"); the paper does not say when, so the lr drops
 * by 10x at epochs 15, 30 and 45 (MultiStepLR), evenly over the 60 epochs. quick: a narrow
 * SequentialCNN with batch norm at 64 px on 2000 generated synthetic films (synthetic-sets.ts), sized
 * to learn them within a few minutes on a CPU (packages/cli/README.md#quick-start): @spine/models'
 * quickTrainingSettings, which the web page trains with too.
 */
export function presetConfig(name: PresetName): RunConfig {
  if (name === 'paper-densenet-cervical' || name === 'paper-densenet-lumbar') return paperDenseNetPreset(name);
  // paper-seqcnn-roi: the same settings on ROI crops (Table 3); the crops are made by
  // `spine-cli roi crop ... --out data/cervical-roi-crops`, where this preset looks by default.
  if (name === 'paper-seqcnn' || name === 'paper-seqcnn-roi') {
    return {
      preset: name,
      seed: 0,
      data: { root: name === 'paper-seqcnn-roi' ? resolve('data/cervical-roi-crops') : bundledSample(), labels: null },
      splitFractions: [0.8, 0.1, 0.1],
      model: PAPER_SEQCNN,
      epochs: 60,
      batchSize: 10,
      lr: 0.001,
      classifierLrFactor: 1,
      momentum: 0.9,
      weightDecay: 5e-4,
      scheduler: { type: 'multistep', milestones: [15, 30, 45], gamma: 0.1 },
      augment: false,
    };
  }
  // Key order as config.json has always had it (the run's config hash depends on it).
  const { seed, ...settings } = quickTrainingSettings();
  return { preset: name, seed, data: { root: quickStartDataDir(), labels: null }, ...settings };
}

/**
 * What the trainer hashes into checkpoints: everything but the epoch count (a resume may extend
 * it). With `runDir` the data paths are hashed as config.json stores them (storedDataPaths), so a
 * run moved with its repository still resumes; without it (runs recorded before that) as given.
 */
export function hashedConfig(c: RunConfig, runDir?: string): unknown {
  const { epochs: _epochs, ...rest } = c;
  return runDir === undefined ? rest : { ...rest, data: storedDataPaths(c.data, runDir) };
}

/** The nearest folder at or above `dir` that holds `.git` (a repository's work tree), or null. */
function repositoryRoot(dir: string): string | null {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (existsSync(join(d, '.git'))) return d;
    if (dirname(d) === d) return null;
  }
}

/**
 * Data paths as config.json holds them. Relative to the run directory when the data folder is in
 * the repository (git work tree) that holds the run: the repository moves or is cloned as a whole,
 * runs/ and test-data/ (the quick start) or data/ with it, so the run keeps finding its films.
 * Absolute otherwise: a folder outside the repository (/data/nhanes) stays where it is when a run
 * directory is moved or copied, so the absolute path is the one that survives.
 */
export function storedDataPaths(data: RunConfig['data'], runDir: string): RunConfig['data'] {
  const repo = repositoryRoot(runDir);
  const store = (p: string) => {
    const abs = resolve(p);
    if (repo === null || !(abs === repo || abs.startsWith(repo + sep))) return abs;
    return relative(resolve(runDir), abs).split(sep).join('/') || '.';
  };
  return { root: store(data.root), labels: data.labels === null ? null : store(data.labels) };
}

/**
 * config.json's data paths -> absolute: a relative one is resolved against the run directory.
 * When that folder does not exist (the run directory was copied out of its repository) but the
 * absolute path recorded at creation (`atCreation`) does, that one is used.
 */
export function resolveStoredDataPaths(
  stored: RunConfig['data'],
  runDir: string,
  atCreation?: RunConfig['data'],
): RunConfig['data'] {
  const resolveOne = (p: string, fallback: string | null | undefined) => {
    if (isAbsolute(p)) return p;
    const here = resolve(runDir, p);
    return !existsSync(here) && fallback && existsSync(fallback) ? fallback : here;
  };
  return {
    root: resolveOne(stored.root, atCreation?.root),
    labels: stored.labels === null ? null : resolveOne(stored.labels, atCreation?.labels),
  };
}

/**
 * Rows of the largest block an FC weight [out, in] is kept in: @spine/nn's ShardedLinear cuts it
 * into even row blocks of at most 128 MiB (WebGPU's default binding limit), never under one row.
 */
function fcBlockRows(out: number, inputs: number): number {
  const perBlock = Math.max(1, Math.floor((128 * 2 ** 20) / (4 * inputs)));
  return Math.ceil(out / Math.ceil(out / perBlock));
}

/**
 * The largest single weight tensor as bound by a kernel, for the adapter's binding limit. FC
 * weights count by their largest row block (FC6's 144 MiB is two 72 MiB blocks), so in practice
 * only a layer with one row over 128 MiB, or a huge conv, is refused.
 */
export function largestWeight(
  c: SequentialCnnConfig,
  fc6Inputs: number,
): { name: string; bytes: number; shape: number[] } {
  const [c1, c2, c3, c4, c5] = c.channels;
  const k1 = c.conv1.kernel;
  const all = [
    { name: 'features.0.weight (conv1)', shape: [c1, c.inChannels, k1, k1] },
    { name: 'features.4.weight (conv2)', shape: [c2, c1, 3, 3] },
    { name: 'features.8.weight (conv3)', shape: [c3, c2, 3, 3] },
    { name: 'features.10.weight (conv4)', shape: [c4, c3, 3, 3] },
    { name: 'features.12.weight (conv5)', shape: [c5, c4, 3, 3] },
    { name: 'classifier.1.weight (FC6, one row block)', shape: [fcBlockRows(c.hidden[0], fc6Inputs), fc6Inputs] },
    { name: 'classifier.4.weight (FC7, one row block)', shape: [fcBlockRows(c.hidden[1], c.hidden[0]), c.hidden[0]] },
  ].map((w) => ({ ...w, bytes: 4 * w.shape.reduce((a, b) => a * b, 1) }));
  return all.reduce((a, b) => (b.bytes > a.bytes ? b : a));
}

/** A DenseNet model config with the paper's settings: 224 px, ImageNet weights and preprocessing. */
export function denseNetModel(arch: DenseNetArch = 'densenet121'): DenseNetModelConfig {
  return {
    kind: 'densenet',
    arch,
    inputSize: 224,
    numClasses: 2,
    dropRate: 0,
    memoryEfficient: false,
    weights: 'imagenet',
    freezeFeaturesEpochs: 0,
    resize: 'shorter-side-crop',
  };
}

/**
 * Xue et al.'s Approach II: ImageNet DenseNet-121 with a new Linear(1024, 2), 224x224x3 input, SGD
 * momentum 0.9, lr 0.001 "decaying over time", batch 4, 60 epochs, cross-entropy. The paper gives no
 * schedule; the lr drops 10x at epochs 20 and 40 (MultiStepLR), two steps at even thirds of the run,
 * as the paper-seqcnn preset spaces its three: a pretrained body starts near a good solution, so two
 * reductions suffice. Weight decay is not given either; 1e-4 is what DenseNet was trained with (Huang
 * et al.). Films are resized as torchvision's ImageNet evaluation recipe (shorter side to 256, centre
 * 224 crop, ImageNet mean/std, grey replicated to three channels). No augmentation: the paper names
 * none. Data: the bundled synthetic sample of the region unless --data is given.
 */
function paperDenseNetPreset(name: 'paper-densenet-cervical' | 'paper-densenet-lumbar'): RunConfig {
  return {
    preset: name,
    seed: 0,
    data: { root: bundledSample(name === 'paper-densenet-lumbar' ? 'lumbar' : 'cervical'), labels: null },
    splitFractions: [0.8, 0.1, 0.1],
    model: denseNetModel('densenet121'),
    epochs: 60,
    batchSize: 4,
    lr: 0.001,
    classifierLrFactor: 1,
    momentum: 0.9,
    weightDecay: 1e-4,
    scheduler: { type: 'multistep', milestones: [20, 40], gamma: 0.1 },
    augment: false,
  };
}

/**
 * The first field of a recorded configuration that is missing or of the wrong kind, or undefined:
 * config.json is read back by every command, and a damaged one must be named, not fail deep in
 * model construction.
 */
export function runConfigProblem(c: RunConfig): string | undefined {
  const count = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
  const number = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  const counts = (v: unknown, n: number) => Array.isArray(v) && v.length === n && v.every(count);
  const checks: [string, boolean][] = [
    ['seed', Number.isInteger(c.seed)],
    ['epochs', count(c.epochs)],
    ['batchSize', count(c.batchSize)],
    ['lr', number(c.lr)],
    ['classifierLrFactor', number(c.classifierLrFactor)],
    ['momentum', number(c.momentum)],
    ['weightDecay', number(c.weightDecay)],
    ['augment', typeof c.augment === 'boolean'],
    [
      'scheduler',
      typeof c.scheduler === 'object' &&
        c.scheduler !== null &&
        Array.isArray(c.scheduler.milestones) &&
        number(c.scheduler.gamma),
    ],
    ['model', typeof c.model === 'object' && c.model !== null],
  ];
  const m = c.model as unknown as Record<string, unknown>;
  if (checks.at(-1)![1] && isDenseNetConfig(c.model)) {
    checks.push(
      ['model.arch', (DENSENET_ARCHS as readonly unknown[]).includes(m.arch)],
      ['model.inputSize', count(m.inputSize)],
      ['model.numClasses', count(m.numClasses)],
      ['model.dropRate', number(m.dropRate)],
      ['model.memoryEfficient', typeof m.memoryEfficient === 'boolean'],
      ['model.freezeFeaturesEpochs', Number.isInteger(m.freezeFeaturesEpochs)],
      ['model.resize', m.resize === 'stretch' || m.resize === 'shorter-side-crop'],
    );
  } else if (checks.at(-1)![1]) {
    const conv1 = m.conv1 as Record<string, unknown> | undefined;
    const conv2 = m.conv2 as Record<string, unknown> | undefined;
    const lrn = m.lrn as Record<string, unknown> | undefined;
    checks.push(
      ['model.kind', m.kind === undefined || m.kind === 'seqcnn'],
      ['model.inputSize', count(m.inputSize)],
      ['model.numClasses', count(m.numClasses)],
      ['model.inChannels', count(m.inChannels)],
      ['model.channels', counts(m.channels, 5)],
      ['model.hidden', counts(m.hidden, 2)],
      ['model.conv1', count(conv1?.kernel) && count(conv1?.stride) && Number.isInteger(conv1?.padding)],
      ['model.conv2', count(conv2?.stride) && Number.isInteger(conv2?.padding)],
      ['model.dropout', number(m.dropout)],
      ['model.initStd', number(m.initStd)],
      [
        'model.lrn',
        m.batchNorm === true || (count(lrn?.size) && number(lrn?.alpha) && number(lrn?.beta) && number(lrn?.k)),
      ],
    );
  }
  const bad = checks.find(([, ok]) => !ok);
  return bad ? `config.${bad[0]} is missing or not valid` : undefined;
}
