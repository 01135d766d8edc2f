// Fixture access for the serialization tests: files written by scripts/make-torch-files.py
// (PyTorch 1.13) and the values torch.load returned for them.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DType, TensorRecord } from '../../src/serialization/index.js';

export const TORCH_FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'torch');

export interface ExpectedTensor {
  dtype: string;
  shape: number[];
  /** Floats as torch returned them after .to(float32); non-finite ones as 'inf' / '-inf'. */
  data: Array<number | string>;
}

export function expectedFor(file: string): Map<string, ExpectedTensor> {
  const all = JSON.parse(readFileSync(join(TORCH_FIXTURES, 'expected.json'), 'utf8')) as {
    files: Record<string, Record<string, ExpectedTensor>>;
  };
  const entry = all.files[file];
  if (!entry) throw new Error(`expected.json has no entry for ${file}; rerun scripts/make-torch-files.py`);
  return new Map(Object.entries(entry));
}

export function fixturePath(name: string): string {
  return join(TORCH_FIXTURES, name);
}

export function fixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(fixturePath(name)));
}

const TORCH_DTYPES: Record<string, DType> = {
  float32: 'F32',
  float64: 'F64',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  uint8: 'U8',
  bool: 'BOOL',
};

export function dtypeOfTorch(name: string): DType {
  const d = TORCH_DTYPES[name];
  if (!d) throw new Error(`no DType for torch dtype ${name}`);
  return d;
}

/** Expected values as plain numbers (or bigints for a BigInt64Array result). */
export function expectedValues(e: ExpectedTensor, asBigInt = false): Array<number | bigint> {
  return e.data.map((v) => {
    if (typeof v === 'string') return v === 'inf' ? Infinity : v === '-inf' ? -Infinity : NaN;
    return asBigInt ? BigInt(v) : v;
  });
}

export function valuesOf(t: TensorRecord): Array<number | bigint> {
  return Array.from(t.data as ArrayLike<number | bigint>);
}
