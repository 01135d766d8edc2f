// DenseBlock and Transition under autocast (mixed precision) against torchvision's f32 golden
// (fixtures/densenet/golden-blocks.json): the fused BN-ReLU-conv ops follow autocast, so every
// conv takes f16 operands; on this adapter's kernels, and on the gpu family with subgroup
// matrices (emulated), where those ops stay fused. f16 tolerance: each conv's operands and output gradient carry a
// relative rounding of 2^-11, and batch norm renormalises between the five convs; 1e-2 of the
// largest value bounds what that leaves (the f32 path meets 1e-4 and 1e-3 on the same golden),
// while the f16 path must differ from the f32 one (else the convs did not round).
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { autocast, Sequential } from '@spine/nn';
import { setConvSubgroupMatrixEmulation } from '@spine/nn/tuning';
import { DenseBlock, Transition } from '../../src/models/densenet/blocks.js';
import { expectNear, loadFixture, stateOf, toTensor, type GoldenArray } from '../helpers/golden.js';

interface Golden {
  state: Record<string, GoldenArray>;
  x: GoldenArray;
  up: GoldenArray;
  y: GoldenArray;
  dx: GoldenArray;
  grads: Record<string, GoldenArray>;
  running_after: Record<string, GoldenArray>;
}
const golden = loadFixture<Golden>('densenet/golden-blocks.json');

beforeAll(async () => {
  await T.ready();
});
afterEach(() => {
  setConvSubgroupMatrixEmulation(null);
  T.setKernelFamily(null);
});

function build(memoryEfficient: boolean): Sequential {
  const net = new Sequential(
    new DenseBlock({ numLayers: 2, numInputFeatures: 8, bnSize: 2, growthRate: 4, memoryEfficient }),
    new Transition(16, 8),
  );
  net.loadStateDict(stateOf(golden.state), false);
  net.train();
  return net;
}

describe.runIf(() => T.getEngine().device.features.has('shader-f16'))('DenseNet blocks under autocast', () => {
  for (const [memoryEfficient, sgm] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    it(`forward, gradients and running statistics within the f16 bound of torchvision's f32 (${memoryEfficient ? 'memory-efficient' : 'plain'}${sgm ? ', subgroup matrices (emulated)' : ''})`, async () => {
      if (sgm) {
        T.setKernelFamily('gpu');
        setConvSubgroupMatrixEmulation({ m: 16, n: 16, k: 16, subgroupSize: 32 });
      }
      const net = build(memoryEfficient);
      const x = toTensor(golden.x, true);
      const y = autocast(() => net.forward(x));
      await expectNear(y, golden.y, 1e-2, 'y');
      T.sum(T.mul(y, toTensor(golden.up))).backward();
      await expectNear(x.grad!, golden.dx, 1e-2, 'dx');
      for (const [name, p] of net.namedParameters()) {
        expect(p.dtype).toBe('f32');
        await expectNear(p.grad!, golden.grads[name]!, 1e-2, `grad ${name}`);
      }
      const sd = net.stateDict();
      for (const [k, v] of Object.entries(golden.running_after)) await expectNear(sd.get(k)!, v, 1e-2, k);

      const f32 = Array.from(await build(memoryEfficient).forward(toTensor(golden.x)).data());
      const mixed = Array.from(await y.data());
      expect(Math.max(...mixed.map((v, i) => Math.abs(v - f32[i]!)))).toBeGreaterThan(1e-5);
    });
  }
});
