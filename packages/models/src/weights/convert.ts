/**
 * PyTorch checkpoint -> safetensors, the format training loads (no unpickler involved, read one
 * tensor at a time). Floating tensors are stored as F32 (the engine's type; F64/F16/BF16 are
 * converted), int64 as I64, other integers as I32. The file appears atomically (temp + rename).
 */
import { mkdir } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { writeSafetensorsFile } from '@spine/nn/node';
import { WeightsError } from './errors.js';
import { isBufferKey, readWeightsFile, type WeightsFile, type WeightsFormat } from './weights-file.js';

export interface ConvertResult {
  out: string;
  sourceFormat: WeightsFormat;
  tensorCount: number;
  parameterCount: number;
  renamedKeys: number;
}

export function parameterCountOf(tensors: WeightsFile['tensors']): number {
  let n = 0;
  for (const [key, t] of tensors) if (!isBufferKey(key)) n += t.data.length;
  return n;
}

/**
 * Convert `src` (.pth or .safetensors) to a safetensors file at `out`. `expectParameters`, when
 * given, must equal the state dict's parameter count, or nothing is written.
 */
export async function convertToSafetensors(
  src: string,
  out: string,
  options: { metadata?: Record<string, string>; expectParameters?: number } = {},
): Promise<ConvertResult> {
  const file = await readWeightsFile(src);
  const parameterCount = parameterCountOf(file.tensors);
  if (options.expectParameters !== undefined && parameterCount !== options.expectParameters) {
    throw new WeightsError(
      'incompatible',
      `${src} holds ${parameterCount.toLocaleString('en-US')} parameters, expected ${options.expectParameters.toLocaleString('en-US')}`,
      'It is not the checkpoint these weights name; nothing was stored.',
    );
  }
  if (file.tensors.size === 0) throw new WeightsError('bad-file', `${src}: the state dict is empty`);
  const metadata: Record<string, string> = {
    format: 'pt',
    source: basename(src),
    source_format: file.format,
    converted_by: '@spine/models weights',
    ...(file.renamedKeys > 0 ? { renamed_legacy_keys: String(file.renamedKeys) } : {}),
    ...file.metadata,
    ...options.metadata,
  };
  await mkdir(dirname(out), { recursive: true });
  await writeSafetensorsFile(out, file.tensors, metadata);
  return {
    out,
    sourceFormat: file.format,
    tensorCount: file.tensors.size,
    parameterCount,
    renamedKeys: file.renamedKeys,
  };
}
