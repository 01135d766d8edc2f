// A checkpoint as data, without files: the JSON sidecar's type and checks, the tensors a
// checkpoint holds (`model.<state-dict key>`, `optimizer.momentum.<parameter index>`), and loading
// them into a model and optimizer. checkpoint.ts puts these on disk; a web page keeps them in
// memory and in the browser's storage (run-store.ts), so both write the same files.
import * as T from '@spine/tensor';
import type { Module, SGD, SgdState, TensorLike } from '@spine/nn';
import { CHECKPOINT_FORMAT } from '../run/formats.js';
import { TrainingError } from './errors.js';
import type { EpochMetrics } from './history.js';
import type { LoaderState } from '../data/loader.js';

export type CheckpointName = 'last' | 'best';
export const CHECKPOINT_VERSION = 1;

/** Sums of an epoch in progress, so a run stopped mid-epoch reports the same epoch metrics. */
export interface PartialEpoch {
  lossSum: number;
  correct: number;
  images: number;
  /** Training seconds already spent in this epoch. */
  seconds: number;
}

/** The JSON sidecar. */
export interface CheckpointMeta {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  /** The safetensors file beside this sidecar. */
  tensors: string;
  tensorsBytes: number;
  /** Completed epochs; with `batch` > 0 the run stopped inside epoch `epoch + 1`. */
  epoch: number;
  batch: number;
  /** Optimizer steps taken so far. */
  step: number;
  optimizer: { paramGroups: SgdState['paramGroups'] };
  scheduler: Record<string, unknown> | null;
  rng: T.RngState;
  loaders: { train: LoaderState; val: LoaderState | null };
  best: { metric: string; value: number; epoch: number } | null;
  partial: PartialEpoch | null;
  history: EpochMetrics[];
  configHash: string;
  savedAt: string;
  /** A mixed-precision run's loss scale and its finite steps since the scale last changed. */
  gradScaler?: { scale: number; growthTracker: number };
}

export interface SaveInput
  extends Omit<CheckpointMeta, 'format' | 'version' | 'tensors' | 'tensorsBytes' | 'optimizer' | 'savedAt'> {
  model: Module;
  optimizer: SGD;
}

type TensorEntry = { shape: number[]; data: Float32Array | Int32Array | BigInt64Array };

export interface LoadedCheckpoint {
  meta: CheckpointMeta;
  /** The safetensors file the tensors came from. */
  file: string;
  /** Model state dict entries (keys without the `model.` prefix). */
  model: Map<string, TensorEntry>;
  momentum: Map<number, TensorEntry>;
}

/** The sidecar's text checked field by field; `path` names it in the 'bad-checkpoint' error. */
export function parseCheckpointMeta(text: string, path: string): CheckpointMeta {
  const bad = (what: string, cause?: unknown) =>
    new TrainingError('bad-checkpoint', `${path}: ${what}`, { file: path, ...(cause === undefined ? {} : { cause }) });
  let meta: unknown;
  try {
    meta = JSON.parse(text);
  } catch (e) {
    throw bad(`not valid JSON (${(e as Error).message}); the checkpoint sidecar is damaged`, e);
  }
  const m = meta as Partial<CheckpointMeta> | null;
  if (typeof m !== 'object' || m === null || m.format !== CHECKPOINT_FORMAT || m.version !== CHECKPOINT_VERSION) {
    const found =
      typeof m === 'object' && m !== null
        ? `format ${String(m.format)}, version ${String(m.version)}`
        : `a JSON ${m === null ? 'null' : typeof m}`;
    throw bad(`not a spine checkpoint of version ${CHECKPOINT_VERSION} (found ${found})`);
  }
  const problem = metaProblem(m);
  if (problem) throw bad(`${problem}; the checkpoint sidecar is damaged`);
  return m as CheckpointMeta;
}

/** The first field a reader relies on that is missing or of the wrong kind, or undefined. */
function metaProblem(m: Partial<CheckpointMeta>): string | undefined {
  const count = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
  if (typeof m.tensors !== 'string' || !/^[^/\\]+\.safetensors$/.test(m.tensors))
    return `'tensors' is ${JSON.stringify(m.tensors)}, not the name of a .safetensors file beside it`;
  for (const k of ['tensorsBytes', 'epoch', 'batch', 'step'] as const)
    if (!count(m[k])) return `'${k}' is ${JSON.stringify(m[k])}, not a count`;
  if (!Array.isArray(m.optimizer?.paramGroups)) return "'optimizer.paramGroups' is missing";
  if (typeof m.loaders !== 'object' || m.loaders === null || typeof m.loaders.train !== 'object')
    return "'loaders' is missing";
  if (!Array.isArray(m.history)) return "'history' is missing";
  if (typeof m.configHash !== 'string') return "'configHash' is missing";
  if (m.gradScaler !== undefined && !(m.gradScaler.scale > 0 && count(m.gradScaler.growthTracker)))
    return `'gradScaler' is ${JSON.stringify(m.gradScaler)}, not a positive scale and a count`;
  return undefined;
}

/**
 * Model and momentum tensors as CPU arrays (one readback each; only at checkpoint time). The
 * model's entries are stateDictData's: a weight kept in row blocks (FC6) is saved joined, under
 * its PyTorch key; momentum buffers follow the optimizer's parameters, i.e. the blocks.
 */
export async function collectCheckpointTensors(
  model: Module,
  optimizer: SGD,
): Promise<{ tensors: Map<string, TensorLike>; groups: SgdState['paramGroups'] }> {
  const tensors = new Map<string, TensorLike>();
  for (const [key, e] of await model.stateDictData()) tensors.set(`model.${key}`, e);
  const state = optimizer.stateDict();
  try {
    for (const [i, b] of [...state.momentumBuffers].sort((a, c) => a[0] - c[0]))
      tensors.set(`optimizer.momentum.${i}`, { shape: b.shape, data: await b.data() });
  } finally {
    for (const b of state.momentumBuffers.values()) b.dispose(); // copies (SGD.stateDict)
  }
  return { tensors, groups: state.paramGroups };
}

/** The tensor file's name for a save at (epoch, batch): a new name each time (see checkpoint.ts). */
export function checkpointTensorsName(name: CheckpointName, epoch: number, batch: number, random: string): string {
  return `${name}-e${String(epoch).padStart(4, '0')}b${String(batch).padStart(4, '0')}-${random}.safetensors`;
}

/** The sidecar for a save whose tensors went to `file` (`bytes` long). */
export function checkpointMeta(
  input: SaveInput,
  groups: SgdState['paramGroups'],
  file: string,
  bytes: number,
): CheckpointMeta {
  const { model: _model, optimizer: _optimizer, ...rest } = input;
  return {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    tensors: file,
    tensorsBytes: bytes,
    optimizer: { paramGroups: groups },
    ...rest,
    savedAt: new Date().toISOString(),
  };
}

/** A checkpoint's tensors sorted into model and momentum entries; any other key is `bad(...)`. */
export function checkpointFromTensors(
  meta: CheckpointMeta,
  file: string,
  tensors: ReadonlyMap<string, TensorEntry>,
  bad: (what: string) => Error,
): LoadedCheckpoint {
  const model = new Map<string, TensorEntry>();
  const momentum = new Map<number, TensorEntry>();
  for (const [key, rec] of tensors) {
    if (key.startsWith('model.')) model.set(key.slice('model.'.length), { shape: rec.shape, data: rec.data });
    else if (key.startsWith('optimizer.momentum.'))
      momentum.set(Number(key.slice('optimizer.momentum.'.length)), { shape: rec.shape, data: rec.data });
    else throw bad(`unexpected tensor '${key}'`);
  }
  return { meta, file, model, momentum };
}

/**
 * Load a checkpoint's weights and momentum buffers into a model and its optimizer. A checkpoint
 * of another network (keys or shapes that differ) is a TrainingError 'wrong-model' naming the file.
 */
export function applyCheckpointTensors(ckpt: LoadedCheckpoint, model: Module, optimizer?: SGD): void {
  const wrongModel = (e: unknown) =>
    new TrainingError(
      'wrong-model',
      `${ckpt.file}: does not fit this ${model.constructor.name} (${(e as Error).message})`,
      { file: ckpt.file, cause: e },
    );
  try {
    model.loadStateDict(ckpt.model);
  } catch (e) {
    throw isNnError(e) ? wrongModel(e) : e;
  }
  if (!optimizer) return;
  const momentumBuffers = new Map<number, T.Tensor>();
  try {
    for (const [i, m] of ckpt.momentum) momentumBuffers.set(i, T.tensor(m.data as Float32Array, m.shape));
    optimizer.loadStateDict({ paramGroups: ckpt.meta.optimizer.paramGroups, momentumBuffers });
  } catch (e) {
    throw isNnError(e) ? wrongModel(e) : e;
  } finally {
    for (const t of momentumBuffers.values()) t.dispose();
  }
}

/** @spine/nn's errors for a state dict that does not fit (by name: bundles may hold two copies). */
function isNnError(e: unknown): e is Error {
  return e instanceof Error && e.name === 'NnError';
}

/**
 * Where a run's checkpoints and metrics history are kept: files in a run directory (Node,
 * checkpoint.ts) or a page's memory and storage (memory-store.ts). The trainer reads and writes
 * through this alone.
 */
export interface RunStore {
  /** The checkpoints' folder, as messages name it. */
  readonly checkpoints: string;
  /** A file in the checkpoints' folder, as messages name it. */
  checkpointFile(name: string): string;
  /** Called once before training starts (creates the run directory). */
  open(): Promise<void>;
  readMeta(name: CheckpointName): Promise<CheckpointMeta | undefined>;
  read(name: CheckpointName): Promise<LoadedCheckpoint | undefined>;
  /** Write `last` and, when listed, `best` (sharing one set of tensors); returns the sidecar written. */
  save(input: SaveInput, names: readonly CheckpointName[]): Promise<CheckpointMeta>;
  /** Replace metrics.jsonl with this history. */
  writeMetrics(history: readonly EpochMetrics[]): Promise<void>;
}
