// Winograd F(2x2, 3x3) and F(4x4, 3x3) (conv2d-winograd.ts): the forward and the data and weight
// gradients it serves, against the float64 reference at sizes that divide no tile
// (odd heights and widths, tile rows of 4 cut short), paddings 0-2, with and without bias, in
// chunks of tile groups and whole, on both kernel families; outputs poisoned before each run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { conv2d } from '../../../src/ops/conv-pool.js';
import { setConvAlgorithm, setConvTiles, winogradApplies } from '../../../src/ops/conv2d/conv2d.js';
import {
  setWinogradChunkFloats,
  setWinogradTile,
  winogradTile,
  type WinogradTile,
} from '../../../src/ops/conv2d/conv2d-winograd.js';
import { checkConv2d } from '../../helpers/conv-check.js';

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => {
  setConvAlgorithm('auto');
  setWinogradTile(null);
  setWinogradChunkFloats(null);
  T.setKernelFamily(null);
  T.setPoisonOutputs(false);
});

/** Run `body` on one kernel family with one conv algorithm (and tile); settings restored even when it fails. */
async function on(
  family: 'cpu' | 'gpu',
  algorithm: 'auto' | 'winograd',
  body: () => Promise<void>,
  tile: WinogradTile | null = null,
): Promise<void> {
  T.setKernelFamily(family);
  setConvAlgorithm(algorithm);
  setWinogradTile(tile);
  try {
    await body();
  } finally {
    setWinogradTile(null);
    setWinogradChunkFloats(null);
    setConvAlgorithm('auto');
    T.setKernelFamily(null);
  }
}

/** y, dx, dw (and db) of a 3x3 stride-1 conv against the float64 reference. */
function check(
  shape: [number, number, number, number],
  oc: number,
  padding: [number, number],
  bias: boolean,
  seed: number,
): Promise<void> {
  return checkConv2d(shape, [oc, shape[1], 3, 3], { stride: [1, 1], padding, dilation: [1, 1] }, bias, seed);
}

describe('conv2d by Winograd F(2x2, 3x3)', () => {
  it('serves 3x3 stride-1 undilated convs with 16+ channels on the cpu family only', () => {
    T.setKernelFamily('cpu');
    setConvAlgorithm('auto');
    expect(winogradApplies(3, 3, [1, 1], [1, 1], 16, 16)).toBe(true);
    expect(winogradApplies(3, 3, [1, 1], [1, 1], 8, 64)).toBe(false);
    expect(winogradApplies(3, 3, [2, 2], [1, 1], 64, 64)).toBe(false);
    expect(winogradApplies(3, 3, [1, 1], [2, 2], 64, 64)).toBe(false);
    expect(winogradApplies(5, 5, [1, 1], [1, 1], 64, 64)).toBe(false);
    setConvTiles({ tm: 8, tn: 8, wx: 8, wy: 1 });
    expect(winogradApplies(3, 3, [1, 1], [1, 1], 64, 64), 'pinned GEMM tiles test the GEMM').toBe(false);
    setConvTiles(null);
    T.setKernelFamily('gpu');
    expect(winogradApplies(3, 3, [1, 1], [1, 1], 64, 64)).toBe(false);
    T.setKernelFamily(null);
  });

  // [N, C, H, W], out channels, padding, bias. Output widths 7, 9, 13, 12 and 1: tile rows of 4
  // cut short; odd heights: the last tile row half outside. 48 -> 12 channels at padding 1: the
  // backward's transforms share dispatches (winogradGrads).
  const cases: [[number, number, number, number], number, [number, number], boolean][] = [
    [[2, 5, 7, 7], 6, [1, 1], true],
    [[2, 48, 11, 13], 12, [1, 1], false],
    [[1, 17, 9, 11], 20, [0, 0], false],
    [[3, 4, 5, 13], 3, [2, 1], true],
    [[1, 8, 12, 24], 12, [1, 1], false],
    [[2, 3, 3, 3], 5, [0, 0], true],
  ];
  for (const m of [2, 4] as const) {
    for (const [shape, oc, pad, bias] of cases)
      it(`F(${m}x${m}): [${shape}] -> ${oc}, padding ${pad}${bias ? ', bias' : ''}`, () =>
        on('cpu', 'winograd', () => check(shape, oc, pad, bias, shape[1] * 31 + oc + m), m));

    it(`F(${m}x${m}): in chunks of one and of three tile groups (intermediates bounded)`, () =>
      on(
        'cpu',
        'winograd',
        async () => {
          // One group of 4 tiles needs α² * 6 * 4 floats per chunk; a budget below that still takes one.
          setWinogradChunkFloats(1);
          await check([2, 5, 7, 9], 6, [1, 1], true, 901);
          setWinogradChunkFloats((m + 2) ** 2 * 6 * 4 * 3);
          await check([2, 5, 15, 17], 6, [1, 1], false, 902);
        },
        m,
      ));

    it(`F(${m}x${m}): on the gpu family (its tiled matmul under the transforms)`, () =>
      on(
        'gpu',
        'winograd',
        async () => {
          await check([2, 6, 9, 10], 7, [1, 1], true, 77);
          await check([2, 48, 11, 13], 12, [1, 1], false, 78);
        },
        m,
      ));
  }

  it("F(4x4) at 128 input channels (DenseNet's 3x3 convs): within 1e-5 of float64", () =>
    on('cpu', 'winograd', () => check([1, 128, 12, 12], 8, [1, 1], false, 128), 4));

  it("picks the tile with fewer GEMM columns x products: F(4x4) at DenseNet's 56², 28², 14² (and 12²), F(2x2) at 8² and 7²", () => {
    expect([56, 28, 14, 12].map((s) => winogradTile(s, s))).toEqual([4, 4, 4, 4]);
    expect([8, 7, 4, 1].map((s) => winogradTile(s, s))).toEqual([2, 2, 2, 2]);
    setWinogradTile(2);
    expect(winogradTile(56, 56)).toBe(2);
    setWinogradTile(null);
  });

  it('by the automatic choice at 16 channels, as the layers use it', () =>
    on('cpu', 'auto', () => check([2, 16, 10, 9], 16, [1, 1], true, 1616)));

  it('takes the weight gradient by Winograd too, from the unpadded input', () =>
    on('cpu', 'auto', async () => {
      const x = T.randn([2, 16, 10, 9], { seed: 5 });
      const w = T.randn([16, 16, 3, 3], { seed: 6 });
      for (const t of [x, w]) t.requiresGrad = true;
      const p = await T.profileKernels(async () => {
        T.scope(() => T.sum(conv2d(x, w, null, { padding: 1 })).backward());
        await T.sync();
      });
      const names = p.kernels.map((k) => k.name);
      expect(names).toContain('nn_winograd_grad_output');
      expect(names).toContain('nn_winograd_weight_grad');
      expect(names, 'no direct weight gradient').not.toContain('nn_conv2d_wgrad');
      expect(names).not.toContain('nn_conv_spread');
      for (const t of [x, w, x.grad, w.grad]) t?.dispose();
    }));

  it("transforms in one dispatch what shares it: the forward's input and weights, padding 1's backward for gy and w, and its two gradients' inverse transforms", () =>
    on('cpu', 'auto', async () => {
      const transforms = async (c: number, oc: number, padding: number) => {
        const x = T.randn([2, c, 12, 16], { seed: 7 });
        const w = T.randn([oc, c, 3, 3], { seed: 8 });
        for (const t of [x, w]) t.requiresGrad = true;
        const p = await T.profileKernels(async () => {
          T.scope(() => T.sum(conv2d(x, w, null, { padding })).backward());
          await T.sync();
        });
        for (const t of [x, w, x.grad, w.grad]) t?.dispose();
        return Object.fromEntries(
          p.kernels.filter((k) => k.name.startsWith('nn_winograd')).map((k) => [k.name, k.dispatches]),
        );
      };
      // 64 -> 16 channels: gy's two transforms together take less than dx and x's transform.
      expect(await transforms(64, 16, 1)).toEqual({
        nn_winograd_input_weights: 1, // forward
        nn_winograd_output: 1, // forward
        nn_winograd_backward_transforms: 1, // gy for both gradients, the flipped weights
        nn_winograd_input: 1, // x for the weight gradient
        nn_winograd_grads_output: 1, // dx and dw from their products
      });
      const separate = {
        nn_winograd_input_weights: 2, // forward; gy with the flipped weights
        nn_winograd_output: 2,
        nn_winograd_grad_output: 1,
        nn_winograd_input: 1,
        nn_winograd_weight_grad: 1,
      };
      // Padding 0: the data gradient's tiles (padding 2) are not the weight gradient's.
      expect(await transforms(64, 16, 0)).toEqual(separate);
      // 16 -> 16 channels: both of gy's transforms at once would outweigh dx; in turn they do not.
      expect(await transforms(16, 16, 1)).toEqual(separate);
    }));

  it("padding 1's backward transforms write its products' textures: no stage pass, gradients as the reference's", () =>
    on('cpu', 'auto', async () => {
      const x = T.randn([2, 64, 12, 16], { seed: 7 });
      const w = T.randn([16, 64, 3, 3], { seed: 8 });
      for (const t of [x, w]) t.requiresGrad = true;
      const loss = T.sum(conv2d(x, w, null, { padding: 1 }));
      const p = await T.profileKernels(async () => {
        loss.backward();
        await T.sync();
      });
      const dispatches = (name: string) => p.kernels.find((k) => k.name === name)?.dispatches ?? 0;
      expect(dispatches('nn_winograd_backward_transforms')).toBe(1);
      expect(dispatches('matmul-texture')).toBe(2);
      expect(dispatches('matmul-stage')).toBe(0);
      for (const t of [x, w, x.grad, w.grad, loss]) t?.dispose();
      // The same path's values, at this shape and at one whose products pad every block.
      await check([2, 64, 12, 16], 16, [1, 1], false, 41);
      await check([3, 36, 9, 11], 20, [1, 1], false, 42);
    }));
});
