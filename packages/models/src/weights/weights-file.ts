/**
 * Reading weight files whatever their format: PyTorch checkpoints (zip, or the legacy pre-1.6
 * stream; through @spine/nn's allow-list unpickler, which refuses any pickle global it does not
 * know before anything could run) and safetensors. The format comes from the bytes, not the file
 * name. Old torchvision DenseNet key names (`norm.1`) are renamed to the current ones (`norm1`)
 * on the way in, exactly as torchvision's loader does, so every consumer sees one naming.
 */
import { open } from 'node:fs/promises';
import {
  SafetensorsFileReader,
  isSerializationError,
  readSafetensorsFile,
  readTorchCheckpointFile,
  type DType,
  type TensorRecord,
} from '@spine/nn/node';
import { remapLegacyDenseNetKeys } from '../models/densenet/legacy-keys.js';
import { WeightsError } from './errors.js';

export type WeightsFormat = 'torch-zip' | 'torch-legacy' | 'safetensors';

export interface WeightsFile {
  path: string;
  format: WeightsFormat;
  /** Keys in file order, legacy DenseNet names already renamed. */
  tensors: Map<string, TensorRecord>;
  /** safetensors __metadata__ (empty for .pth files). */
  metadata: Record<string, string>;
  /** How many keys were renamed from the legacy DenseNet naming. */
  renamedKeys: number;
}

/** What a PyTorch state dict counts as buffers rather than parameters (BatchNorm's running statistics). */
export function isBufferKey(key: string): boolean {
  return /(^|\.)(running_mean|running_var|num_batches_tracked)$/.test(key);
}

/** Sniff the format from the first bytes. */
export async function detectWeightsFormat(path: string): Promise<WeightsFormat | null> {
  const fh = await open(path, 'r');
  try {
    const head = new Uint8Array(16);
    const { bytesRead } = await fh.read(head, 0, 16, 0);
    if (bytesRead >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04)
      return 'torch-zip';
    // Legacy torch.save: a protocol-2 pickle (0x80 0x02) of the magic number 0x1950a86a20f9469cfc6c as a LONG1 (0x8a 0x0a).
    if (bytesRead >= 4 && head[0] === 0x80 && head[1] === 0x02 && head[2] === 0x8a && head[3] === 0x0a)
      return 'torch-legacy';
    if (bytesRead >= 9) {
      const n = Number(new DataView(head.buffer).getBigUint64(0, true));
      // A header length that runs past the end still says safetensors: the reader then reports
      // the file as truncated, rather than as no weights file at all.
      if (n > 0 && n < 2 ** 32 && head[8] === 0x7b /* '{' */) return 'safetensors';
    }
    return null;
  } finally {
    await fh.close();
  }
}

/** Every tensor of a .pth or .safetensors file, with legacy DenseNet keys renamed. */
export async function readWeightsFile(path: string): Promise<WeightsFile> {
  const format = await sniffOrThrow(path);
  let raw: Map<string, TensorRecord>;
  let metadata: Record<string, string> = {};
  try {
    if (format === 'safetensors') {
      const file = await readSafetensorsFile(path, { int64: 'bigint' });
      raw = file.tensors;
      metadata = file.metadata;
    } else {
      raw = await readTorchCheckpointFile(path, { int64: 'bigint' });
    }
  } catch (e) {
    throw asWeightsError(e);
  }
  const tensors = remapLegacyDenseNetKeys(raw);
  const renamedKeys = [...raw.keys()].filter((k) => !tensors.has(k)).length;
  return { path, format, tensors, metadata, renamedKeys };
}

export interface WeightsSummaryEntry {
  key: string;
  dtype: DType;
  shape: number[];
  numel: number;
}

export interface WeightsSummary {
  path: string;
  format: WeightsFormat;
  metadata: Record<string, string>;
  renamedKeys: number;
  tensors: WeightsSummaryEntry[];
  /** Elements of every tensor that is not a BatchNorm running statistic. */
  parameterCount: number;
  /** Elements of the running statistics (running_mean, running_var, num_batches_tracked). */
  bufferCount: number;
}

/** Keys, shapes, dtypes and counts; a safetensors file is summarised from its header alone. */
export async function inspectWeightsFile(path: string): Promise<WeightsSummary> {
  const format = await sniffOrThrow(path);
  let entries: { key: string; dtype: DType; shape: number[] }[];
  let metadata: Record<string, string> = {};
  let renamedKeys = 0;
  if (format === 'safetensors') {
    let reader: SafetensorsFileReader;
    try {
      reader = await SafetensorsFileReader.open(path);
    } catch (e) {
      throw asWeightsError(e);
    }
    entries = reader.entries.map((e) => ({ key: e.name, dtype: e.dtype, shape: [...e.shape] }));
    metadata = { ...reader.metadata };
    await reader.close();
  } else {
    const file = await readWeightsFile(path);
    entries = [...file.tensors].map(([key, t]) => ({ key, dtype: t.dtype, shape: t.shape }));
    renamedKeys = file.renamedKeys;
  }
  const tensors = entries.map((e) => ({ ...e, numel: e.shape.reduce((a, b) => a * b, 1) }));
  const sum = (list: WeightsSummaryEntry[]) => list.reduce((s, t) => s + t.numel, 0);
  return {
    path,
    format,
    metadata,
    renamedKeys,
    tensors,
    parameterCount: sum(tensors.filter((t) => !isBufferKey(t.key))),
    bufferCount: sum(tensors.filter((t) => isBufferKey(t.key))),
  };
}

async function sniffOrThrow(path: string): Promise<WeightsFormat> {
  let format: WeightsFormat | null;
  try {
    format = await detectWeightsFormat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new WeightsError(
      'bad-file',
      `${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, expected a weights file' : (e as Error).message}`,
      undefined,
      { cause: e },
    );
  }
  if (!format) {
    throw new WeightsError(
      'bad-file',
      `${path}: not a weights file (neither a PyTorch checkpoint, zip or legacy, nor safetensors)`,
      'Pass a .pth written by torch.save or a .safetensors file.',
    );
  }
  return format;
}

function asWeightsError(e: unknown): unknown {
  if (!isSerializationError(e)) return e;
  // @spine/nn's messages already name the file and key and, for a refused pickle global, what to do.
  return new WeightsError('bad-file', e.message, undefined, { cause: e });
}
