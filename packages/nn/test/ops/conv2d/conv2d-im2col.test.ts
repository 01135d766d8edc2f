// Convolutions with few values per output (DenseNet's 7x7 stride-2 stem) through im2col and the
// tensor matmul on software adapters (conv2d-im2col.ts): the choice, and the forward, both
// gradients and the bias gradient against the float64 reference at a stem-like shape, with
// padding that clips patches on every side and K padded from 147 to 148.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { conv2d } from '../../../src/ops/conv-pool.js';
import { im2colApplies } from '../../../src/ops/conv2d/conv2d-im2col.js';
import { convGeometry, setConvAlgorithm } from '../../../src/ops/conv2d/conv2d.js';
import { checkConv2d } from '../../helpers/conv-check.js';

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => {
  setConvAlgorithm('auto');
  T.setKernelFamily(null);
  T.setPoisonOutputs(false);
});

const geometry = (x: number[], w: number[], stride: number, padding: number) =>
  convGeometry(T.empty(x), T.empty(w), null, { stride, padding });

describe('conv2d by im2col + matmul (cpu family)', () => {
  it('applies to short, wide products: K <= 160, 64+ output channels, pixels a multiple of 64, OW a multiple of 4', () => {
    T.setKernelFamily('cpu');
    expect(im2colApplies(geometry([4, 3, 224, 224], [64, 3, 7, 7], 2, 3))).toBe(true); // DenseNet's stem
    expect(im2colApplies(geometry([2, 3, 32, 32], [64, 3, 7, 7], 2, 3))).toBe(true);
    expect(im2colApplies(geometry([2, 4, 32, 32], [64, 4, 7, 7], 2, 3))).toBe(false); // K = 196
    expect(im2colApplies(geometry([2, 3, 32, 32], [32, 3, 7, 7], 2, 3))).toBe(false); // few output channels
    expect(im2colApplies(geometry([2, 3, 30, 30], [64, 3, 7, 7], 2, 3))).toBe(false); // 15x15 outputs
    // Columns of N·148·112² floats bound whole: past the adapter's storage binding limit, the GEMM.
    const fits = Math.floor(T.deviceInfo().limits.maxStorageBufferBindingSize / (148 * 112 * 112 * 4));
    expect(im2colApplies(geometry([fits, 3, 224, 224], [64, 3, 7, 7], 2, 3))).toBe(true);
    expect(im2colApplies(geometry([fits + 1, 3, 224, 224], [64, 3, 7, 7], 2, 3))).toBe(false);
    T.setKernelFamily('gpu');
    expect(im2colApplies(geometry([4, 3, 224, 224], [64, 3, 7, 7], 2, 3))).toBe(false);
    T.setKernelFamily(null);
  });

  it('matches float64 in y, dx, dw and db (7x7 stride 2, padding 3, 3 -> 64 channels)', async () => {
    T.setKernelFamily('cpu');
    try {
      await checkConv2d(
        [2, 3, 32, 32],
        [64, 3, 7, 7],
        { stride: [2, 2], padding: [3, 3], dilation: [1, 1] },
        true,
        147,
      );
      // Padding 1 at stride 1 over 2 channels, 5x5 (16x16 outputs): K = 50 padded to 52.
      await checkConv2d(
        [1, 2, 18, 18],
        [64, 2, 5, 5],
        { stride: [1, 1], padding: [1, 1], dilation: [1, 1] },
        false,
        52,
      );
    } finally {
      T.setKernelFamily(null);
    }
  });

  it('is the route the stem takes, and setConvAlgorithm("gemm") turns it off', async () => {
    T.setKernelFamily('cpu');
    const x = T.randn([1, 3, 32, 32], { seed: 1 });
    const w = T.randn([64, 3, 7, 7], { seed: 2 });
    const kernels = async () =>
      (await T.profileKernels(() => conv2d(x, w, null, { stride: 2, padding: 3 }).data())).kernels.map((k) => k.name);
    try {
      expect(await kernels()).toContain('nn_conv_im2col');
      // The weight gradient takes it too: no direct weight-gradient kernel, no padded copy.
      w.requiresGrad = true;
      const backward = await T.profileKernels(async () => {
        T.scope(() => T.sum(conv2d(x, w, null, { stride: 2, padding: 3 })).backward());
        await w.grad!.data();
      });
      const names = backward.kernels.map((k) => k.name);
      expect(names.filter((n) => n === 'nn_conv_im2col').length).toBe(1);
      expect(backward.kernels.find((k) => k.name === 'nn_conv_im2col')!.dispatches).toBe(2);
      expect(names).not.toContain('nn_conv2d_wgrad');
      w.requiresGrad = false;
      w.grad = null;
      setConvAlgorithm('gemm');
      const gemm = await kernels();
      expect(gemm).not.toContain('nn_conv_im2col');
      expect(gemm).toContain('nn_conv2d_gemm');
    } finally {
      setConvAlgorithm('auto');
      T.setKernelFamily(null);
      for (const t of [x, w]) t.dispose();
    }
  });
});
