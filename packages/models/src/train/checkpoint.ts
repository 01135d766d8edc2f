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
import { isSerializationError, readSafetensorsFile, writeSafetensorsFile } from '@spine/nn/node';
import { syncDir, writeFileAtomic } from '@spine/imaging/node';
import { CHECKPOINT_FORMAT } from '../run/formats.js';
import {
  checkpointFromTensors,
  checkpointMeta,
  checkpointTensorsName,
  collectCheckpointTensors,
  parseCheckpointMeta,
  type CheckpointMeta,
  type CheckpointName,
  type LoadedCheckpoint,
  type RunStore,
  type SaveInput,
} from './checkpoint-format.js';
import { TrainingError } from './errors.js';
import { writeMetricsHistory } from './history-file.js';

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
  return parseCheckpointMeta(text, path);
}

/** The sidecar of a checkpoint, or undefined when there is none. */
export function readCheckpointMeta(runDir: string, name: CheckpointName): Promise<CheckpointMeta | undefined> {
  return readMeta(join(checkpointDir(runDir), `${name}.json`));
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
  const { tensors, groups } = await collectCheckpointTensors(input.model, input.optimizer);
  const random = randomBytes(4).toString('hex');
  let meta: CheckpointMeta | undefined;
  let source: string | undefined;
  for (const name of names) {
    const file = checkpointTensorsName(name, input.epoch, input.batch, random);
    const path = join(dir, file);
    if (source === undefined) {
      await writeSafetensorsFile(path, tensors, { format: CHECKPOINT_FORMAT });
      source = path;
    } else {
      await link(source, path).catch(() => writeSafetensorsFile(path, tensors, { format: CHECKPOINT_FORMAT }));
    }
    await syncDir(dir);
    meta = checkpointMeta(input, groups, file, (await stat(path)).size);
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
  return checkpointFromTensors(meta, path, file.tensors, bad);
}

/** A run directory as the trainer's store: RUN/checkpoints/ and RUN/metrics.jsonl. */
export function runDirStore(runDir: string): RunStore {
  return {
    checkpoints: checkpointDir(runDir),
    checkpointFile: (name) => join(checkpointDir(runDir), name),
    open: async () => void (await mkdir(runDir, { recursive: true })),
    readMeta: (name) => readCheckpointMeta(runDir, name),
    read: (name) => readCheckpoint(runDir, name),
    save: (input, names) => saveCheckpoint(runDir, input, names),
    writeMetrics: (history) => writeMetricsHistory(runDir, history),
  };
}
