// A run kept in memory as the files a run directory holds (metrics.jsonl, checkpoints/last.json
// and best.json with their safetensors files), for a web page: the same sidecars and tensor
// files as checkpoint.ts writes, so the page can hand them out as a run folder, and
// `persist` can copy each change into the browser's storage.
import { decodeSafetensors, encodeSafetensors, isSerializationError } from '@spine/nn';
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
} from './checkpoint-format.js';
import { TrainingError } from './errors.js';
import { METRICS_FILE, metricsJsonl } from './history.js';

export const CHECKPOINTS_FOLDER = 'checkpoints';

export interface MemoryRunStoreOptions {
  /** What messages call the run ('this browser's run'). */
  name: string;
  /** Files already there (a run restored from storage), by path inside the run. */
  files?: ReadonlyMap<string, Uint8Array>;
  /** Called after each change with the whole set of files (a copy into persistent storage). */
  persist?: (files: ReadonlyMap<string, Uint8Array>) => Promise<void>;
}

export class MemoryRunStore implements RunStore {
  readonly checkpoints: string;
  private readonly map: Map<string, Uint8Array>;

  constructor(private readonly options: MemoryRunStoreOptions) {
    this.checkpoints = `${options.name}/${CHECKPOINTS_FOLDER}`;
    this.map = new Map(options.files ?? []);
  }

  /** The run's files by path inside the run ('checkpoints/best.json', 'metrics.jsonl', ...). */
  get files(): ReadonlyMap<string, Uint8Array> {
    return this.map;
  }

  checkpointFile(name: string): string {
    return `${this.checkpoints}/${name}`;
  }

  async open(): Promise<void> {}

  async readMeta(name: CheckpointName): Promise<CheckpointMeta | undefined> {
    const bytes = this.map.get(`${CHECKPOINTS_FOLDER}/${name}.json`);
    return bytes && parseCheckpointMeta(new TextDecoder().decode(bytes), this.checkpointFile(`${name}.json`));
  }

  async read(name: CheckpointName): Promise<LoadedCheckpoint | undefined> {
    const meta = await this.readMeta(name);
    if (!meta) return undefined;
    const path = this.checkpointFile(meta.tensors);
    const bad = (what: string, cause?: unknown) =>
      new TrainingError('bad-checkpoint', `${path} (named by ${name}.json): ${what}`, {
        file: path,
        ...(cause === undefined ? {} : { cause }),
      });
    const bytes = this.map.get(`${CHECKPOINTS_FOLDER}/${meta.tensors}`);
    if (!bytes) throw bad('the file is missing');
    if (bytes.byteLength !== meta.tensorsBytes)
      throw bad(
        `the file is ${bytes.byteLength} bytes, ${name}.json records ${meta.tensorsBytes}; it is ${bytes.byteLength < meta.tensorsBytes ? 'truncated' : 'not the file the sidecar describes'}`,
      );
    let decoded;
    try {
      decoded = decodeSafetensors(bytes, { file: path });
    } catch (e) {
      throw bad(isSerializationError(e) ? e.reason : (e as Error).message, e);
    }
    return checkpointFromTensors(meta, path, decoded.tensors, bad);
  }

  async save(input: Parameters<RunStore['save']>[0], names: readonly CheckpointName[]): Promise<CheckpointMeta> {
    const { tensors, groups } = await collectCheckpointTensors(input.model, input.optimizer);
    const bytes = encodeSafetensors(tensors, { format: CHECKPOINT_FORMAT });
    const random = [...crypto.getRandomValues(new Uint8Array(4))].map((b) => b.toString(16).padStart(2, '0')).join('');
    let meta: CheckpointMeta | undefined;
    for (const name of names) {
      const file = checkpointTensorsName(name, input.epoch, input.batch, random);
      for (const key of [...this.map.keys()])
        if (key.startsWith(`${CHECKPOINTS_FOLDER}/${name}-`)) this.map.delete(key);
      this.map.set(`${CHECKPOINTS_FOLDER}/${file}`, bytes);
      meta = checkpointMeta(input, groups, file, bytes.byteLength);
      this.map.set(
        `${CHECKPOINTS_FOLDER}/${name}.json`,
        new TextEncoder().encode(JSON.stringify(meta, null, 1) + '\n'),
      );
    }
    await this.options.persist?.(this.map);
    return meta!;
  }

  async writeMetrics(history: Parameters<RunStore['writeMetrics']>[0]): Promise<void> {
    this.map.set(METRICS_FILE, new TextEncoder().encode(metricsJsonl(history)));
    await this.options.persist?.(this.map);
  }

  /** Adds or replaces a file of the run (config.json, split.json). */
  async put(path: string, bytes: Uint8Array): Promise<void> {
    this.map.set(path, bytes);
    await this.options.persist?.(this.map);
  }
}
