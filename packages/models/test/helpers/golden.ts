// Reading the PyTorch golden fixtures in fixtures/ (written by scripts/*.py; CI never runs
// PyTorch) and holding our tensors to them.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import * as T from '@spine/tensor/node';
import type { StateEntry } from '@spine/nn';

export interface GoldenArray {
  shape: number[];
  data: number[];
}

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures');

/** A fixture file under fixtures/ (e.g. 'densenet/golden-blocks.json'), parsed. */
export function loadFixture<G>(path: string): G {
  return JSON.parse(readFileSync(join(FIXTURES, path), 'utf8')) as G;
}

/** An f32 tensor of a fixture array (optionally a leaf that requires grad). */
export function toTensor(a: GoldenArray, requiresGrad = false): T.Tensor {
  const t = T.tensor(Float32Array.from(a.data), a.shape);
  t.requiresGrad = requiresGrad;
  return t;
}

/** A fixture's state dict as entries Module.loadStateDict accepts. */
export function stateOf(state: Record<string, GoldenArray>): Map<string, StateEntry> {
  return new Map(Object.entries(state).map(([k, v]) => [k, { shape: v.shape, data: Float32Array.from(v.data) }]));
}

/** max |got - want| / max |want| under `rel`; the message names the worst element. */
export async function expectNear(got: T.Tensor, want: GoldenArray, rel: number, label: string): Promise<void> {
  expect(got.shape, `${label}: shape`).toEqual(want.shape);
  const data = await got.data();
  const scale = Math.max(1e-12, ...want.data.map(Math.abs));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < data.length; i++) {
    const d = Math.abs(data[i]! - want.data[i]!);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  expect(
    worst / scale,
    `${label}: relative error at flat index ${at} (got ${data[at]}, want ${want.data[at]})`,
  ).toBeLessThan(rel);
}
