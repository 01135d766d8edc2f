// Checkpoints: RUN/checkpoints/{last,best}.json, each naming a safetensors file beside it that
// holds the model's state dict (keys `model.<state-dict key>`) and the optimizer's momentum
// buffers (`optimizer.momentum.<parameter index>`). The JSON sidecar holds everything else:
// optimizer group options, scheduler state, the tensor RNG state, the loaders' positions, the
// epoch, the best metric, the history and the config hash.
//
// Ordering, so a checkpoint is never half-visible: (1) the tensors go to a *new* file name
// (`last-e0003b0000-<random>.safetensors`) through temp + fsync + rename; (2) the sidecar is
// written the same way and its rename is the commit point; (3) only then is the tensor file of
// the previous sidecar deleted. A kill before (2) leaves the old pair intact plus an orphan that
// the next save removes; a kill after it leaves the new pair. Reusing one tensor file name would
// open a window where new weights sit beside an old sidecar.
import { randomBytes } from 'node:crypto';
import { link, mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import * as T from '@spine/tensor';
import {
  isSerializationError,
  readSafetensorsFile,
  writeSafetensorsFile,
  type Module,
  type SGD,
  type SgdState,
  type TensorLike,
} from '@spine/nn/node';
import { syncDir, writeFileAtomic } from '@spine/imaging/node';
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
}

export function checkpointDir(runDir: string): string {
  return join(runDir, 'checkpoints');
}

async function readMeta(path: string): Promise<CheckpointMeta | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
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
  return undefined;
}

/** The sidecar of a checkpoint, or undefined when there is none. */
export function readCheckpointMeta(runDir: string, name: CheckpointName): Promise<CheckpointMeta | undefined> {
  return readMeta(join(checkpointDir(runDir), `${name}.json`));
}

/**
 * Model and momentum tensors as CPU arrays (one readback each; only at checkpoint time). The
 * model's entries are stateDictData's: a weight kept in row blocks (FC6) is saved joined, under
 * its PyTorch key; momentum buffers follow the optimizer's parameters, i.e. the blocks.
 */
async function collectTensors(
  model: Module,
  optimizer: SGD,
): Promise<{ tensors: Map<string, TensorLike>; groups: SgdState['paramGroups'] }> {
  const tensors = new Map<string, TensorLike>();
  for (const [key, e] of await model.stateDictData()) tensors.set(`model.${key}`, e);
  const state = optimizer.stateDict();
  for (const [i, b] of [...state.momentumBuffers].sort((a, c) => a[0] - c[0]))
    tensors.set(`optimizer.momentum.${i}`, { shape: b.shape, data: await b.data() });
  return { tensors, groups: state.paramGroups };
}

export interface SaveInput
  extends Omit<CheckpointMeta, 'format' | 'version' | 'tensors' | 'tensorsBytes' | 'optimizer' | 'savedAt'> {
  model: Module;
  optimizer: SGD;
}

/**
 * Write `last` and, when `alsoBest`, `best` (sharing one tensor file through a hard link where
 * the file system allows, a copy where not). Returns the sidecar written.
 */
export async function saveCheckpoint(
  runDir: string,
  input: SaveInput,
  names: readonly CheckpointName[],
): Promise<CheckpointMeta> {
  const dir = checkpointDir(runDir);
  await mkdir(dir, { recursive: true });
  const { model, optimizer, ...rest } = input;
  const { tensors, groups } = await collectTensors(model, optimizer);
  const stamp = `e${String(input.epoch).padStart(4, '0')}b${String(input.batch).padStart(4, '0')}-${randomBytes(4).toString('hex')}`;
  let meta: CheckpointMeta | undefined;
  let source: string | undefined;
  for (const name of names) {
    const file = `${name}-${stamp}.safetensors`;
    const path = join(dir, file);
    if (source === undefined) {
      await writeSafetensorsFile(path, tensors, { format: CHECKPOINT_FORMAT });
      source = path;
    } else {
      await link(source, path).catch(() => writeSafetensorsFile(path, tensors, { format: CHECKPOINT_FORMAT }));
    }
    await syncDir(dir);
    meta = {
      format: CHECKPOINT_FORMAT,
      version: CHECKPOINT_VERSION,
      tensors: file,
      tensorsBytes: (await stat(path)).size,
      optimizer: { paramGroups: groups },
      ...rest,
      savedAt: new Date().toISOString(),
    };
    await writeFileAtomic(join(dir, `${name}.json`), JSON.stringify(meta, null, 1) + '\n');
    await removeStale(dir, name, file);
  }
  return meta!;
}

/** Delete tensor files of `name` other than the one its sidecar now names (old ones, orphans). */
async function removeStale(dir: string, name: CheckpointName, keep: string): Promise<void> {
  for (const f of await readdir(dir)) {
    const mine = f.startsWith(`${name}-`) && (f.endsWith('.safetensors') || f.endsWith('.tmp'));
    if (mine && f !== keep) await unlink(join(dir, f)).catch(() => undefined);
  }
}

export interface LoadedCheckpoint {
  meta: CheckpointMeta;
  /** The safetensors file the tensors came from. */
  file: string;
  /** Model state dict entries (keys without the `model.` prefix). */
  model: Map<string, { shape: number[]; data: Float32Array | Int32Array | BigInt64Array }>;
  momentum: Map<number, { shape: number[]; data: Float32Array | Int32Array | BigInt64Array }>;
}

/** Read a checkpoint's sidecar and tensors; undefined when there is no such checkpoint. */
export async function readCheckpoint(runDir: string, name: CheckpointName): Promise<LoadedCheckpoint | undefined> {
  const meta = await readCheckpointMeta(runDir, name);
  if (!meta) return undefined;
  const path = join(checkpointDir(runDir), meta.tensors);
  const bad = (what: string, cause?: unknown) =>
    new TrainingError('bad-checkpoint', `${path} (named by ${name}.json): ${what}`, {
      file: path,
      ...(cause === undefined ? {} : { cause }),
    });
  const size = await stat(path).then(
    (s) => s.size,
    (e: NodeJS.ErrnoException) => {
      throw bad(e.code === 'ENOENT' ? 'the file is missing' : `cannot be read (${e.code ?? e.message})`, e);
    },
  );
  if (size !== meta.tensorsBytes)
    throw bad(
      `the file is ${size} bytes, ${name}.json records ${meta.tensorsBytes}; it is ${size < meta.tensorsBytes ? 'truncated' : 'not the file the sidecar describes'}`,
    );
  let file;
  try {
    file = await readSafetensorsFile(path);
  } catch (e) {
    throw bad(
      isSerializationError(e) ? `${e.key === undefined ? '' : `tensor '${e.key}': `}${e.reason}` : (e as Error).message,
      e,
    );
  }
  const model = new Map<string, { shape: number[]; data: Float32Array | Int32Array | BigInt64Array }>();
  const momentum = new Map<number, { shape: number[]; data: Float32Array | Int32Array | BigInt64Array }>();
  for (const [key, rec] of file.tensors) {
    if (key.startsWith('model.')) model.set(key.slice('model.'.length), { shape: rec.shape, data: rec.data });
    else if (key.startsWith('optimizer.momentum.'))
      momentum.set(Number(key.slice('optimizer.momentum.'.length)), { shape: rec.shape, data: rec.data });
    else throw bad(`unexpected tensor '${key}'`);
  }
  return { meta, file: path, model, momentum };
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
