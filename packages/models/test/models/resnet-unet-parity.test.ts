// Parity with PyTorch 1.13 / torchvision 0.14 for ResNet-18, ResNet-50 (224 px, batch 2) and the
// U-Net (32 px, batch 2), with the closed-formula weights, running statistics, input and upstream
// gradient of scripts/make-resnet-unet-fixtures.py, which wrote fixtures/resnet/golden.json:
// - outputs in train and eval mode within 1e-4 relative error of PyTorch's float32 ones;
// - running statistics after the train step within 1e-4 of PyTorch's (float64 run);
// - parameter gradients against PyTorch's float64 run within 1e-3 (or 3x PyTorch's own float32
//   spread from float64 where that is larger).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, it } from 'vitest';
import * as T from '@spine/tensor/node';
import type { Module } from '@spine/nn';
import { resnet18, resnet50 } from '../../src/models/resnet.js';
import { unet, type UNetConfig } from '../../src/models/unet.js';
import {
  expectOutputs,
  expectSummary,
  formulaInput,
  formulaState,
  upstream,
  type Outputs,
  type Summary,
} from './formula-golden.js';

interface Golden {
  batch: number;
  channels: number;
  size: number;
  out_train: Outputs;
  out_eval: Outputs;
  grads: Record<string, Summary>;
  running_after: Record<string, Summary>;
}
const GOLDEN = JSON.parse(
  readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'resnet', 'golden.json'), 'utf8'),
) as {
  resnet18: Golden;
  resnet50: Golden;
  unet: Golden & { config: UNetConfig };
};

beforeAll(async () => {
  await T.ready();
});

/** The generator's sequence: train forward, backward of sum(out * upstream), eval forward. */
async function checkAgainstTorch(m: Module, g: Golden, name: string): Promise<void> {
  m.loadStateDict(formulaState(m), true);
  const x = formulaInput(g.batch, g.channels, g.size);
  m.train();
  const y = m.forward(x);
  expectOutputs(await y.data(), y.shape, g.out_train, `${name} train-mode output`);
  if (Object.keys(g.grads).length) {
    T.sum(T.mul(y, upstream(y.shape))).backward();
    const params = new Map(m.namedParameters());
    for (const [key, want] of Object.entries(g.grads))
      await expectSummary(
        params.get(key)!.grad!,
        want,
        Math.max(1e-3, 3 * want.f32Spread!.maxRel),
        `${name} grad ${key}`,
      );
  }
  y.dispose();
  const state = m.stateDict();
  for (const [key, want] of Object.entries(g.running_after))
    await expectSummary(state.get(key)!, want, 1e-4, `${name} ${key}`);
  m.eval();
  const e = T.noGrad(() => m.forward(x));
  expectOutputs(await e.data(), e.shape, g.out_eval, `${name} eval-mode output`);
  e.dispose();
  x.dispose();
  m.dispose();
}

describe('ResNet and U-Net match PyTorch (formula weights)', () => {
  it('resnet18 at 224 px: train output, gradients, running stats, eval logits', { timeout: 600_000 }, async () => {
    await checkAgainstTorch(resnet18(), GOLDEN.resnet18, 'resnet18');
  });

  it('resnet50 at 224 px: train and eval logits', { timeout: 600_000 }, async () => {
    await checkAgainstTorch(resnet50(), GOLDEN.resnet50, 'resnet50');
  });

  it('unet (base 8, depth 3) at 32 px: train output, gradients, running stats, eval output', async () => {
    await checkAgainstTorch(unet(GOLDEN.unet.config), GOLDEN.unet, 'unet');
  });
});
