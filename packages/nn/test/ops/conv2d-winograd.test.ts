// Winograd F(2x2, 3x3) (conv2d-winograd.ts): the forward and the data gradient it serves, and
// the weight gradient beside them, against the float64 reference at sizes that divide no tile
// (odd heights and widths, tile rows of 4 cut short), paddings 0-2, with and without bias, in
// chunks of tile groups and whole, on both kernel families; outputs poisoned before each run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { setConvAlgorithm, setConvTiles, winogradApplies } from '../../src/ops/conv2d.js';
import { setWinogradChunkFloats } from '../../src/ops/conv2d-winograd.js';
import { checkConv2d } from '../helpers/conv-check.js';

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => {
  setConvAlgorithm('auto');
  setWinogradChunkFloats(null);
  T.setKernelFamily(null);
  T.setPoisonOutputs(false);
});

/** Run `body` on one kernel family with one conv algorithm; settings restored even when it fails. */
async function on(family: 'cpu' | 'gpu', algorithm: 'auto' | 'winograd', body: () => Promise<void>): Promise<void> {
  T.setKernelFamily(family);
  setConvAlgorithm(algorithm);
  try {
    await body();
  } finally {
    setWinogradChunkFloats(null);
    setConvAlgorithm('auto');
    T.setKernelFamily(null);
  }
}

/** y, dx, dw (and db) of a 3x3 stride-1 conv against the float64 reference. */
function check(shape: [number, number, number, number], oc: number, padding: [number, number], bias: boolean, seed: number): Promise<void> {
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
  // cut short; odd heights: the last tile row half outside.
  const cases: [[number, number, number, number], number, [number, number], boolean][] = [
    [[2, 5, 7, 7], 6, [1, 1], true],
    [[1, 17, 9, 11], 20, [0, 0], false],
    [[3, 4, 5, 13], 3, [2, 1], true],
    [[1, 8, 12, 24], 12, [1, 1], false],
    [[2, 3, 3, 3], 5, [0, 0], true],
  ];
  for (const [shape, oc, pad, bias] of cases)
    it(`[${shape}] -> ${oc}, padding ${pad}${bias ? ', bias' : ''}`, () => on('cpu', 'winograd', () => check(shape, oc, pad, bias, shape[1] * 31 + oc)));

  it('in chunks of one and of three tile groups (intermediates bounded)', () =>
    on('cpu', 'winograd', async () => {
      // One group of 4 tiles needs 16 * 6 * 4 floats per chunk; a budget below that still takes one.
      setWinogradChunkFloats(1);
      await check([2, 5, 7, 9], 6, [1, 1], true, 901);
      setWinogradChunkFloats(16 * 6 * 4 * 3);
      await check([2, 5, 7, 9], 6, [1, 1], false, 902);
    }));

  it('on the gpu family (its tiled matmul under the transforms)', () => on('gpu', 'winograd', () => check([2, 6, 9, 10], 7, [1, 1], true, 77)));

  it('by the automatic choice at 16 channels, as the layers use it', () => on('cpu', 'auto', () => check([2, 16, 10, 9], 16, [1, 1], true, 1616)));
});
