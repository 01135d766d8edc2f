// Parity with torchvision 0.14: a full DenseNet-121 at 224 px (batch 2) whose weights, running
// statistics, input and upstream gradient all come from the closed formulas documented in
// scripts/make-densenet-golden.py, which wrote fixtures/densenet/golden-densenet121.json with
// PyTorch 1.13, in the plain and the memory-efficient mode:
// - logits (train and eval mode) within 1e-4 relative error of PyTorch's float32 ones;
// - running statistics after the step within 1e-4 of PyTorch's (float64 run);
// - parameter gradients against PyTorch's float64 run: within 1e-3 where PyTorch's own float32
//   gradient is that close to float64 (classifier, norm5, the last dense layer), and within 3x
//   PyTorch's own float32 spread below (ReLU masks flipped by float32 rounding; see the script).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { densenet121 } from '../../src/models/densenet/densenet.js';
import { expectOutputs, expectSummary, formulaInput, formulaState, upstream, type Summary } from './formula-golden.js';

interface Golden {
  batch: number;
  size: number;
  logits_train: { shape: number[]; data: number[] };
  logits_eval: { shape: number[]; data: number[] };
  grads: Record<string, Summary>;
  running_after: Record<string, Summary>;
}
const GOLDEN = JSON.parse(
  readFileSync(
    join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'densenet', 'golden-densenet121.json'),
    'utf8',
  ),
) as Golden;

beforeAll(async () => {
  await T.ready();
});

/** The generator's sequence: train forward, backward of sum(logits * upstream), eval forward. */
async function checkAgainstTorch(memoryEfficient: boolean): Promise<void> {
  const m = densenet121({ memoryEfficient });
  m.loadStateDict(formulaState(m), false);
  const x = formulaInput(GOLDEN.batch, 3, GOLDEN.size);
  m.train();
  const y = m.forward(x);
  expectOutputs(await y.data(), y.shape, GOLDEN.logits_train, 'train-mode logits');
  T.sum(T.mul(y, upstream(y.shape))).backward();
  const params = new Map(m.namedParameters());
  for (const [key, want] of Object.entries(GOLDEN.grads)) {
    const tolerance = Math.max(1e-3, 3 * want.f32Spread!.maxRel);
    await expectSummary(params.get(key)!.grad!, want, tolerance, `grad ${key}`);
  }
  const state = m.stateDict();
  for (const [key, want] of Object.entries(GOLDEN.running_after)) await expectSummary(state.get(key)!, want, 1e-4, key);
  m.eval();
  const e = T.noGrad(() => m.forward(x));
  expectOutputs(await e.data(), e.shape, GOLDEN.logits_eval, 'eval-mode logits');
  m.dispose();
  x.dispose();
}

describe('DenseNet-121 matches torchvision 0.14 at 224 px (formula weights)', () => {
  // About a minute each on lavapipe (2 cores), more on a loaded machine.
  it('plain mode: train logits, gradients, running stats, eval logits', { timeout: 600_000 }, async () => {
    await checkAgainstTorch(false);
  });

  it('memory-efficient mode: the same', { timeout: 600_000 }, async () => {
    await checkAgainstTorch(true);
  });
});
