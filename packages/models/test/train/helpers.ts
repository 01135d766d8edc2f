// Shared set-up for the trainer tests: records from the committed cervical sample (read straight
// from its labels.csv, no image validation pass), and a SequentialCNN small enough for lavapipe.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import * as T from '@spine/tensor';
import { SGD, StepLR } from '@spine/nn';
import { readSafetensorsFile } from '@spine/nn/node';
import type { DatasetRecord } from '../../src/data/dataset.js';
import { DataLoader } from '../../src/data/loader.js';
import { checkpointDir, readCheckpointMeta, type CheckpointMeta } from '../../src/train/index.js';
import { PAPER_SEQCNN, SequentialCNN, type SequentialCnnConfig } from '../../src/models/sequential-cnn.js';

// The bundled child process of interrupt.test.ts lives elsewhere, so it is told the path.
export const SAMPLE =
  process.env.SPINE_TEST_SAMPLE ?? fileURLToPath(new URL('../../../../test-data/sample/cervical/', import.meta.url));

/** `perClass` female and `perClass` male films, the first of each in file order after `skip`. */
export function sampleRecords(perClass: number, skip = 0): DatasetRecord[] {
  const lines = readFileSync(join(SAMPLE, 'labels.csv'), 'utf8').trim().split('\n').slice(1);
  const byClass: DatasetRecord[][] = [[], []];
  for (const line of lines) {
    const [file, sex] = line.split(',');
    const label = sex === 'M' ? 1 : 0;
    byClass[label]!.push({ path: join(SAMPLE, file!), file: file!, label });
  }
  return byClass.flatMap((rs) => rs.slice(skip, skip + perClass));
}

/** 32 px in: conv1 5x5 s1 p2 -> 32, pool 15, conv2 s2 -> 8, pool 3, pool 1; FC6 sees c5 values. */
export function tinyConfig(over: Partial<SequentialCnnConfig> = {}): SequentialCnnConfig {
  return {
    ...PAPER_SEQCNN,
    inputSize: 32,
    channels: [8, 16, 16, 16, 16],
    hidden: [32, 32],
    conv1: { kernel: 5, stride: 1, padding: 2 },
    initStd: 0.05,
    dropout: 0.25,
    ...over,
  };
}

export interface Setup {
  model: SequentialCNN;
  optimizer: SGD;
  scheduler: StepLR;
  trainLoader: DataLoader;
  valLoader: DataLoader;
  close(): Promise<void>;
}

/** A model, SGD with two parameter groups, a StepLR and loaders; everything seeded. */
export function setup(
  train: DatasetRecord[],
  val: DatasetRecord[],
  opts: {
    initSeed?: number;
    lr?: number;
    batchSize?: number;
    valBatchSize?: number;
    config?: Partial<SequentialCnnConfig>;
    augment?: boolean;
    cacheDir?: string;
    stepSize?: number;
  } = {},
): Setup {
  T.manualSeed(opts.initSeed ?? 7);
  const model = new SequentialCNN(tinyConfig(opts.config));
  const lr = opts.lr ?? 0.01;
  const features = model.features.parameters();
  const classifier = model.classifier.parameters();
  const optimizer = new SGD(
    [
      { params: features, name: 'features' },
      { params: classifier, name: 'classifier', lr: lr * 2 },
    ],
    { lr, momentum: 0.9, weightDecay: 5e-4 },
  );
  const scheduler = new StepLR(optimizer, opts.stepSize ?? 2, 0.5);
  const size = tinyConfig(opts.config).inputSize;
  const transform = { width: size, height: size, ...(opts.augment ? { augment: true } : {}) };
  const cache = opts.cacheDir !== undefined ? { cacheDir: opts.cacheDir } : {};
  const trainLoader = new DataLoader(train, {
    batchSize: opts.batchSize ?? 8,
    transform,
    seed: 11,
    workers: 0,
    ...cache,
  });
  const valLoader = new DataLoader(val, {
    batchSize: opts.valBatchSize ?? 16,
    transform: { width: size, height: size },
    shuffle: false,
    workers: 0,
    ...cache,
  });
  return {
    model,
    optimizer,
    scheduler,
    trainLoader,
    valLoader,
    close: async () => {
      await trainLoader.close();
      await valLoader.close();
      model.dispose();
    },
  };
}

/** Every tensor of a checkpoint, and its sidecar without the wall-clock fields. */
export async function snapshot(runDir: string, name: 'last' | 'best' = 'last') {
  const meta = (await readCheckpointMeta(runDir, name))!;
  const { tensors } = await readSafetensorsFile(join(checkpointDir(runDir), meta.tensors));
  const timeless = (m: CheckpointMeta) => ({
    ...m,
    tensors: undefined,
    savedAt: undefined,
    partial: m.partial ? { ...m.partial, seconds: undefined } : null,
    history: m.history.map((h) => ({ ...h, seconds: undefined, imagesPerSecond: undefined })),
  });
  return {
    meta: timeless(meta),
    tensors: new Map(
      [...tensors].map(([k, v]) => [
        k,
        { shape: v.shape, bytes: Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength).toString('base64') },
      ]),
    ),
  };
}
