// 1x1 convolutions on the tensor matmul: on software adapters its texture-operand kernel takes
// the wide ones (pointwiseOnMatmul); forward, both gradients and the bias gradient against the
// float64 reference, and the choice itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import * as tuning from '@spine/tensor/tuning';
import { convDgrad, convGeometry, convWgrad, pointwiseOnMatmul, setConvTiles } from '../../../src/ops/conv2d/conv2d.js';
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

const o: ConvRefOptions = { stride: [1, 1], padding: [0, 0], dilation: [1, 1] };

function geometry(x: number[], oc: number) {
  return convGeometry(T.empty(x), T.empty([oc, x[1]!, 1, 1]), null, {});
}

describe('1x1 convolutions on the matmul (cpu family)', () => {
  it('take the matmul when its texture kernel applies', () => {
    T.setKernelFamily('cpu');
    expect(pointwiseOnMatmul(geometry([2, 40, 12, 12], 72))).toBe(true);
    expect(pointwiseOnMatmul(geometry([4, 1024, 7, 7], 128))).toBe(true); // DenseNet's block 4
    expect(pointwiseOnMatmul(geometry([4, 128, 28, 28], 32))).toBe(true); // few output channels
    expect(pointwiseOnMatmul(geometry([2, 8, 7, 7], 8))).toBe(false); // too small for textures
    tuning.setMatmulTextures(false);
    expect(pointwiseOnMatmul(geometry([2, 40, 12, 12], 72))).toBe(false);
    tuning.setMatmulTextures('auto');
    T.setKernelFamily('gpu');
    expect(pointwiseOnMatmul(geometry([2, 40, 7, 7], 8))).toBe(true); // real GPUs: always
    T.setKernelFamily(null);
  });

  it('convDgrad and convWgrad, which concatBatchNormReluConv1x1Recomputed calls directly, take the matmul too and agree with the conv kernels', async () => {
    T.setKernelFamily('cpu');
    const x = T.randn([2, 40, 12, 11], { seed: 1 });
    const w = T.randn([72, 40, 1, 1], { seed: 2 });
    const gy = T.randn([2, 72, 12, 11], { seed: 3 });
    const g = convGeometry(x, w, null, {});
    expect(pointwiseOnMatmul(g)).toBe(true);
    const onMatmul = [convDgrad(gy, w, g), convWgrad(x, gy, g)];
    setConvTiles({ tm: 8, tn: 8, wx: 8, wy: 1 }); // pinned tiles: the conv kernels
    expect(pointwiseOnMatmul(g)).toBe(false);
    const onKernels = [convDgrad(gy, w, g), convWgrad(x, gy, g)];
    setConvTiles(null);
    for (let i = 0; i < 2; i++) {
      const a = Array.from(await onMatmul[i]!.data());
      const b = Array.from(await onKernels[i]!.data());
      expect(onMatmul[i]!.shape).toEqual(onKernels[i]!.shape);
      const scale = Math.max(...b.map(Math.abs));
      expect(Math.max(...a.map((v, j) => Math.abs(v - b[j]!))) / scale, i ? 'dW' : 'dx').toBeLessThan(1e-5);
    }
    for (const t of [x, w, gy, ...onMatmul, ...onKernels]) t.dispose();
    T.setKernelFamily(null);
  });

  for (const bias of [false, true]) {
    it(`forward, data, weight${bias ? ' and bias' : ''} gradients against the reference`, async () => {
      T.setKernelFamily('cpu');
      expect(pointwiseOnMatmul(geometry([2, 40, 12, 11], 72))).toBe(true);
      await checkConv2d([2, 40, 12, 11], [72, 40, 1, 1], o, bias, 5);
      T.setKernelFamily(null);
    });
  }
});
