// The register blocks the conv GEMMs pick for many channels, forward and both gradients,
// against the float64 reference. The golden cases have few channels and so exercise only the
// narrowest blocks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import * as tuning from '@spine/tensor/tuning';
import { conv2d } from '../../../src/ops/conv-pool.js';
import {
  convTiles,
  gpuConvPlan,
  pixelLaneTiles,
  setConvTiles,
  wgradKLaneTiles,
} from '../../../src/ops/conv2d/conv2d.js';
import type { ConvRefOptions } from '../conv-pool-reference.js';
import { checkConv2d } from '../../helpers/conv-check.js';

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => {
  setConvTiles(null);
  T.setKernelFamily(null);
  T.setPoisonOutputs(false);
});

describe('conv2d register blocks', () => {
  it('picks 12 channels per lane for 96 outputs, 8 for 64, 4 for 32 (cpu family)', () => {
    T.setKernelFamily('cpu');
    expect([convTiles(96).tn, convTiles(64).tn, convTiles(32).tn, convTiles(40).tn]).toEqual([12, 8, 4, 8]);
  });

  const o: ConvRefOptions = { stride: [2, 1], padding: [1, 2], dilation: [1, 2] };
  /** Forward and both gradients of a 3x3 conv of a [2, 5, 9, 8] input to `oc` channels against the float64 reference. */
  const checkAgainstReference = (oc: number, seed: number) => checkConv2d([2, 5, 9, 8], [oc, 5, 3, 3], o, false, seed);

  // The wide blocks the cpu family picks for many channels (8x4 and the gpu family's kernels
  // already run in the golden tests, with few channels).
  const tiles = [
    { tm: 8, tn: 8, wx: 8, wy: 1 },
    { tm: 8, tn: 12, wx: 8, wy: 1 },
  ];
  for (const t of tiles)
    for (const oc of [40, 96]) {
      it(`${t.tm}x${t.tn} in ${t.wx}x${t.wy} workgroups, ${oc} output channels`, async () => {
        T.setKernelFamily('cpu');
        setConvTiles(t);
        await checkAgainstReference(oc, 12 + oc);
        setConvTiles(null);
      });
    }

  // Few output channels on the cpu family: lanes over pixels (conv2d-pixel-kernel.ts) for the
  // forward and, since x has 5 channels, the data gradient too; k rows on the lanes for the weight
  // gradient (conv2d-wgrad-klane-kernel.ts). 5 and 12 leave part of a channel block empty.
  it('takes lanes over pixels / k rows for at most 16 output channels (cpu family only)', () => {
    T.setKernelFamily('cpu');
    expect([pixelLaneTiles(4), pixelLaneTiles(16), pixelLaneTiles(20)]).toEqual([
      { toc: 8, tp: 4 },
      { toc: 8, tp: 4 },
      null,
    ]);
    expect([wgradKLaneTiles(8), wgradKLaneTiles(12), wgradKLaneTiles(20)]).toEqual([
      { toc: 8, tk: 1 },
      { toc: 16, tk: 1 },
      null,
    ]);
    T.setKernelFamily('gpu');
    expect([pixelLaneTiles(16), wgradKLaneTiles(16)]).toEqual([null, null]);
    T.setKernelFamily(null);
  });
  for (const oc of [5, 12, 16])
    it(`lanes over pixels and k rows, ${oc} output channels`, async () => {
      T.setKernelFamily('cpu');
      setConvTiles(null);
      await checkAgainstReference(oc, 70 + oc);
      T.setKernelFamily(null);
    });

  it('lanes over pixels past 65,535 workgroups of pixels (folded over z), with bias', async () => {
    T.setKernelFamily('cpu');
    const side = 1500; // 2.25M pixels / 32 per workgroup = 70,313 workgroups
    const xs = Float32Array.from({ length: side * side }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
    const x = T.tensor(xs, [1, 1, side, side]);
    const w = T.tensor(Float32Array.of(2, -3), [2, 1, 1, 1]);
    const b = T.tensor(Float32Array.of(0.5, 0.25), [2]);
    const y = await conv2d(x, w, b).data();
    let worst = 0;
    for (let i = 0; i < xs.length; i++)
      worst = Math.max(worst, Math.abs(y[i]! - (2 * xs[i]! + 0.5)), Math.abs(y[xs.length + i]! - (-3 * xs[i]! + 0.25)));
    expect(worst).toBeLessThan(1e-6);
    for (const t of [x, w, b]) t.dispose();
    T.setKernelFamily(null);
  });

  // The gpu family's workgroup-tiled forward, data and weight gradients with their automatic
  // tiles (the tensor matmul's size table): 24 outputs take the narrow row, 40 and 96 partial and
  // several column tiles.
  for (const oc of [24, 40, 96])
    it(`gpu family, workgroup tiles, ${oc} output channels`, async () => {
      T.setKernelFamily('gpu');
      setConvTiles(null);
      await checkAgainstReference(oc, 40 + oc);
      T.setKernelFamily(null);
    });

  // Every tile shape of the table (and a k step of 8), pinned, on an input whose pixel count and
  // reduction divide none of them: forward, data and weight gradients against the reference.
  const table = tuning.getGpuTileTable();
  const shapes: [string, tuning.GpuTiles][] = [
    ...tuning.GPU_SIZE_CLASSES.map((c) => [`table row ${c}`, table[c].tiles] as [string, tuning.GpuTiles]),
    ['4x8 in 8x4, k steps of 8', { tm: 4, tn: 8, wx: 8, wy: 4, bk: 8 }],
  ];
  for (const [label, tiles] of shapes)
    it(`gpu family in tiles ${label} (${tiles.tm}x${tiles.tn} per thread in ${tiles.wx}x${tiles.wy}, k step ${tiles.bk})`, async () => {
      T.setKernelFamily('gpu');
      setConvTiles(tiles);
      try {
        await checkConv2d([2, 7, 9, 8], [37, 7, 3, 3], o, true, 90 + tiles.tm * tiles.wx);
      } finally {
        setConvTiles(null);
        T.setKernelFamily(null);
      }
    });

  it('gpu family splits the reduction where the output has few tiles: the forward over k, the weight gradient over pixels', async () => {
    T.setKernelFamily('gpu');
    setConvTiles(null);
    // Forward: 25 output pixels x 5 channels over k = 64·9 = 576.
    expect(gpuConvPlan(25, 8, 576).splits).toBeGreaterThan(1);
    await checkConv2d([1, 64, 5, 5], [5, 64, 3, 3], { stride: [1, 1], padding: [1, 1], dilation: [1, 1] }, true, 95);
    // Weight gradient: 27 rows (3·3·3) x 4 channels over 2·20·20 = 800 pixels.
    expect(gpuConvPlan(27, 4, 800).splits).toBeGreaterThan(1);
    await checkConv2d([2, 3, 20, 20], [4, 3, 3, 3], { stride: [1, 1], padding: [1, 1], dilation: [1, 1] }, false, 96);
    T.setKernelFamily(null);
  });
});
