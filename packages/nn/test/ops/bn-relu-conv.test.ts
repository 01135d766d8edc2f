// batchNormReluConv2d and batchNormReluConv1x1 (bn-relu-conv.ts): on the cpu family the BN-ReLU
// runs inside the Winograd input transform (3x3) or as the matmul stages x (1x1). Against the
// composition conv2d(batchNormRelu(x)) on fresh random inputs at sizes that divide no tile: the
// output, the gradients of x, the BN weight and bias and the conv weight, and the running
// statistics, in training and eval, with both Winograd tiles, with textures forced or automatic,
// on both kernel families and without running statistics; the fused forwards write no BN
// output; and a gradient already waiting for x (a concat's) is added as dx is stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import * as tuning from '@spine/tensor/tuning';
import { batchNormRelu } from '../../src/ops/batchnorm.js';
import { batchNormReluConv1x1, batchNormReluConv2d } from '../../src/ops/bn-relu-conv.js';
import { conv2d } from '../../src/ops/conv-pool.js';
import { setWinogradTile, type WinogradTile } from '../../src/ops/conv2d/conv2d-winograd.js';

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => {
  setWinogradTile(null);
  tuning.setMatmulTextures('auto');
  T.setKernelFamily(null);
  T.setPoisonOutputs(false);
});

/** max |a - b| / max |b|. */
async function rel(a: T.Tensor, b: T.Tensor): Promise<number> {
  const [x, y] = [await a.data(), await b.data()];
  let worst = 0;
  let scale = 1e-12;
  for (let i = 0; i < x.length; i++) {
    worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
    scale = Math.max(scale, Math.abs(y[i]!));
  }
  return worst / scale;
}

interface Case {
  shape: [number, number, number, number];
  oc: number;
  training: boolean;
  running: boolean;
  tile: WinogradTile;
  /** 1: batchNormReluConv1x1 (tile unused); 3 (default): batchNormReluConv2d. */
  k?: 1 | 3;
  family?: 'cpu' | 'gpu';
  textures?: boolean | 'auto';
  /** batchNormReluConv2d keeps its Winograd input transform for the weight gradient. */
  keep?: boolean;
  /** x needs a gradient (default true). */
  xGrad?: boolean;
}

async function compare(
  { shape, oc, training, running, tile, k = 3, family = 'cpu', textures = 'auto', keep = false, xGrad = true }: Case,
  seed: number,
): Promise<void> {
  T.setKernelFamily(family);
  tuning.setMatmulTextures(textures);
  setWinogradTile(tile);
  try {
    const c = shape[1];
    const leaf = (t: T.Tensor) => {
      t.requiresGrad = true;
      return t;
    };
    const x = T.randn(shape, { seed });
    if (xGrad) leaf(x);
    const gamma = leaf(T.add(T.rand([c], { seed: seed + 1 }), 0.5));
    const beta = leaf(T.randn([c], { seed: seed + 2 }));
    const w = leaf(T.mul(T.randn([oc, c, k, k], { seed: seed + 3 }), 0.2));
    const pad = k === 3 ? 1 : 0;
    const r = T.randn([shape[0], oc, shape[2], shape[3]], { seed: seed + 4 });
    const stats = () =>
      running ? [T.randn([c], { seed: seed + 5 }), T.add(T.rand([c], { seed: seed + 6 }), 0.5)] : [null, null];
    const [rmA, rvA] = stats();
    const [rmB, rvB] = stats();
    const bn = { training, momentum: 0.1, eps: 1e-5 };
    const run = (fused: boolean, rm: T.Tensor | null, rv: T.Tensor | null) => {
      const y = !fused
        ? conv2d(batchNormRelu(x, gamma, beta, rm, rv, bn), w, null, { padding: pad })
        : k === 3
          ? batchNormReluConv2d(x, gamma, beta, rm, rv, bn, w, { padding: 1 }, { keepInputTransform: keep })
          : batchNormReluConv1x1(x, gamma, beta, rm, rv, bn, w);
      T.scope(() => T.sum(T.mul(y, r)).backward());
      const grads = [x, gamma, beta, w].map((t) => {
        const g = t.grad;
        t.grad = null;
        return g;
      });
      return { y, grads };
    };
    const fused = run(true, rmA, rvA);
    const plain = run(false, rmB, rvB);
    const label = `${shape} -> ${oc}, ${k === 3 ? `F(${tile})${keep ? ' keeping V' : ''}` : `1x1, ${family}, textures ${textures}`}, ${training ? 'training' : 'eval'}${running ? '' : ', no running stats'}`;
    expect(await rel(fused.y, plain.y), `${label}: y`).toBeLessThan(1e-5);
    const names = ['dx', 'dgamma', 'dbeta', 'dw'];
    expect(fused.grads[0] === null, `${label}: dx only when x needs it`).toBe(!xGrad);
    for (let i = xGrad ? 0 : 1; i < 4; i++)
      expect(await rel(fused.grads[i]!, plain.grads[i]!), `${label}: ${names[i]}`).toBeLessThan(2e-5);
    if (running) {
      expect(await rel(rmA!, rmB!), `${label}: running mean`).toBeLessThan(1e-6);
      expect(await rel(rvA!, rvB!), `${label}: running var`).toBeLessThan(1e-6);
    }
  } finally {
    setWinogradTile(null);
    tuning.setMatmulTextures('auto');
    T.setKernelFamily(null);
  }
}

/** The forward's kernels on a family: the BN statistics and `conv`, but no BN apply pass. */
async function expectNoBnApply(
  c: number,
  shape: number[],
  forward: (x: T.Tensor, gamma: T.Tensor, beta: T.Tensor) => T.Tensor,
  conv: string,
  family: 'cpu' | 'gpu' = 'cpu',
): Promise<void> {
  T.setKernelFamily(family);
  try {
    const x = T.randn(shape, { seed: 9 });
    const p = await T.profileKernels(() => forward(x, T.ones([c]), T.zeros([c])).data());
    const names = p.kernels.map((k) => k.name);
    expect(names).toContain(conv);
    const statistics = ['bn_partial_forward', 'bn_stats_forward', 'bn_lane_forward'];
    expect(names.filter((n) => statistics.includes(n))).not.toHaveLength(0);
    expect(names).not.toContain('bn_apply_forward');
  } finally {
    T.setKernelFamily(null);
  }
}

describe('batchNormReluConv2d', () => {
  const cases: Case[] = [
    { shape: [2, 16, 10, 9], oc: 16, training: true, running: true, tile: 2 },
    { shape: [2, 16, 13, 14], oc: 20, training: true, running: true, tile: 4 },
    { shape: [3, 24, 7, 12], oc: 16, training: false, running: true, tile: 4 },
    { shape: [1, 16, 9, 9], oc: 32, training: true, running: false, tile: 2 },
    { shape: [2, 16, 13, 14], oc: 20, training: true, running: true, tile: 4, keep: true },
    { shape: [2, 16, 10, 9], oc: 16, training: true, running: true, tile: 2, keep: true },
    { shape: [2, 16, 10, 9], oc: 16, training: true, running: true, tile: 2, keep: true },
    // The gpu family's tiled kernels read x through the BN-ReLU, padding implied (no Winograd).
    { shape: [2, 16, 10, 9], oc: 16, training: true, running: true, tile: 2, family: 'gpu' },
    { shape: [3, 13, 7, 12], oc: 20, training: false, running: true, tile: 2, family: 'gpu' },
    { shape: [2, 24, 9, 9], oc: 12, training: true, running: false, tile: 2, family: 'gpu', xGrad: false },
  ];
  cases.forEach((c, i) =>
    it(`matches the composition: [${c.shape}] -> ${c.oc}, ${c.family === 'gpu' ? 'gpu kernels' : `F(${c.tile}x${c.tile})`}${c.keep ? ', keeping its input transform' : ''}, ${c.training ? 'training' : 'eval'}${c.running ? '' : ', no running stats'}${c.xGrad === false ? ', x needs no gradient' : ''}`, () =>
      compare(c, 300 + 10 * i)),
  );

  it('with keepInputTransform, the backward transforms only the upstream gradient, not x again', async () => {
    T.setKernelFamily('cpu');
    try {
      const inputTransforms = async (keep: boolean) => {
        const x = T.randn([2, 16, 12, 12], { seed: 21 });
        const w = T.randn([16, 16, 3, 3], { seed: 22 });
        w.requiresGrad = true;
        const y = batchNormReluConv2d(
          x,
          T.ones([16]),
          T.zeros([16]),
          null,
          null,
          { training: true },
          w,
          { padding: 1 },
          { keepInputTransform: keep },
        );
        const p = await T.profileKernels(async () => {
          T.scope(() => T.sum(y).backward());
          await w.grad!.data();
        });
        return p.kernels.find((k) => k.name === 'nn_winograd_input')?.dispatches ?? 0;
      };
      // Backward: the weight gradient's transform of x, unless kept.
      expect(await inputTransforms(false)).toBe(1);
      expect(await inputTransforms(true)).toBe(0);
    } finally {
      T.setKernelFamily(null);
    }
  });

  it('never writes the BN-ReLU output on the cpu family (no BN apply kernel in the forward)', async () => {
    const w = T.randn([16, 16, 3, 3], { seed: 10 });
    await expectNoBnApply(
      16,
      [2, 16, 12, 12],
      (x, gamma, beta) => batchNormReluConv2d(x, gamma, beta, null, null, { training: true }, w, { padding: 1 }),
      'nn_winograd_input_weights',
    );
  });

  it('never writes the BN-ReLU output on the gpu family either: the tiled kernels read x through it', async () => {
    const w = T.randn([16, 16, 3, 3], { seed: 10 });
    await expectNoBnApply(
      16,
      [2, 16, 12, 12],
      (x, gamma, beta) => batchNormReluConv2d(x, gamma, beta, null, null, { training: true }, w, { padding: 1 }),
      'nn_conv2d_tiled',
      'gpu',
    );
  });
});

describe('batchNormReluConv1x1', () => {
  const cases: Case[] = [
    { shape: [2, 40, 12, 11], oc: 72, training: true, running: true, tile: 2, k: 1 },
    { shape: [3, 33, 7, 5], oc: 17, training: true, running: true, tile: 2, k: 1, textures: true },
    { shape: [2, 36, 9, 9], oc: 20, training: false, running: true, tile: 2, k: 1, textures: true },
    { shape: [2, 24, 8, 8], oc: 12, training: true, running: false, tile: 2, k: 1, textures: true },
    { shape: [2, 40, 12, 11], oc: 72, training: true, running: true, tile: 2, k: 1, textures: false },
    { shape: [2, 40, 12, 11], oc: 72, training: true, running: true, tile: 2, k: 1, family: 'gpu' },
    { shape: [3, 40, 12, 11], oc: 72, training: true, running: true, tile: 2, k: 1, xGrad: false },
  ];
  cases.forEach((c, i) =>
    it(`matches the composition: [${c.shape}] -> ${c.oc}, ${c.family ?? 'cpu'} kernels, textures ${c.textures ?? 'auto'}, ${c.training ? 'training' : 'eval'}${c.running ? '' : ', no running stats'}${c.xGrad === false ? ', x needs no gradient' : ''}`, () =>
      compare(c, 500 + 10 * i)),
  );

  it('maps x through the BN-ReLU as the matmul reads it (texture route, gpu tiles): no BN apply kernel in the forward', async () => {
    T.setKernelFamily('cpu');
    expect(T.stagesBAffine(72, 132, 40, 2, false, [1, 2])).toBe(true);
    T.setKernelFamily(null);
    const w = T.randn([72, 40, 1, 1], { seed: 12 });
    const forward = (x: T.Tensor, gamma: T.Tensor, beta: T.Tensor) =>
      batchNormReluConv1x1(x, gamma, beta, null, null, { training: true }, w);
    await expectNoBnApply(40, [2, 40, 12, 11], forward, 'matmul-texture');
    await expectNoBnApply(40, [2, 40, 12, 11], forward, 'matmul', 'gpu');
  });

  it('sums the weight gradient over the batch in its product (entry by entry in the texture and gpu kernels): no reduce, no per-image gradients', async () => {
    const kernels = async (family: 'cpu' | 'gpu', h: number, wd: number, oc: number) => {
      T.setKernelFamily(family);
      try {
        if (family === 'cpu') expect(T.stagesBAffine(oc, h * wd, 40, 2, false, [1, 2])).toBe(true); // the fused route
        const x = T.randn([2, 40, h, wd], { seed: 31 });
        const w = T.randn([oc, 40, 1, 1], { seed: 32 });
        const gamma = T.ones([40]);
        for (const t of [x, w, gamma]) t.requiresGrad = true;
        const loss = T.sum(batchNormReluConv1x1(x, gamma, T.zeros([40]), null, null, { training: true }, w));
        const p = await T.profileKernels(async () => {
          loss.backward();
          await w.grad!.data();
        });
        return Object.fromEntries(p.kernels.map((k) => [k.name, k.dispatches]));
      } finally {
        T.setKernelFamily(null);
      }
    };
    // Output channels below and above the values per plane (DenseNet's 7x7 layers: 128 > 49).
    for (const [h, wd, oc] of [
      [12, 11, 72],
      [10, 10, 128],
    ] as const) {
      const cpu = await kernels('cpu', h, wd, oc);
      // dx's product and dW's: both on the texture route, neither followed by a reduce.
      expect(cpu['matmul-texture'], `${h}x${wd} -> ${oc}`).toBe(2);
      expect(cpu.reduce, `${h}x${wd} -> ${oc}`).toBeUndefined();
    }
    const gpu = await kernels('gpu', 12, 11, 72);
    expect(gpu.matmul).toBe(2);
    expect(gpu.reduce).toBeUndefined();
  });

  it("adds the gradient waiting for x (DenseNet's concat) as dx is stored, on both kernel families", async () => {
    const cases = [
      { family: 'cpu', h: 12, wd: 11, oc: 72 }, // the lane kernel after the texture route
      { family: 'cpu', h: 5, wd: 5, oc: 40 }, // the lane kernel after the conv kernels (too few flops for textures)
      { family: 'gpu', h: 12, wd: 11, oc: 72 }, // the apply kernel
    ] as const;
    for (const [i, { family, h, wd, oc }] of cases.entries()) {
      T.setKernelFamily(family);
      try {
        const seed = 700 + 10 * i;
        const x0 = T.randn([2 * 40 * h * wd], { seed });
        const w = T.mul(T.randn([oc, 40, 1, 1], { seed: seed + 1 }), 0.2);
        const gamma = T.add(T.rand([40], { seed: seed + 2 }), 0.5);
        const beta = T.randn([40], { seed: seed + 3 });
        for (const t of [x0, w, gamma, beta]) t.requiresGrad = true;
        const r = T.randn([2, 40 + oc, h, wd], { seed: seed + 4 });
        const bn = { training: true };
        const dx = async (concat: boolean) => {
          // x comes from a node, as a feature map does (a leaf's gradients are summed into .grad).
          const x = T.reshape(x0, [2, 40, h, wd]);
          const y = batchNormReluConv1x1(x, gamma, beta, null, null, bn, w);
          let last = '';
          if (concat) {
            // x feeds the op and the concat; the concat's gradient for x waits when the op's rule runs.
            const z = T.concat([x, y], 1);
            const p = await T.profileKernels(
              async () => {
                z.backward(r);
                await x0.grad!.data();
              },
              { perDispatch: true },
            );
            last = p.dispatches!.at(-1)!.name;
          } else y.backward(T.narrow(r, 1, 40, oc));
          const g = x0.grad!;
          for (const t of [x0, w, gamma, beta]) t.grad = null;
          return { g, last };
        };
        const alone = await dx(false);
        const expected = T.add(alone.g, T.flatten(T.narrow(r, 1, 0, 40)));
        const folded = await dx(true);
        expect(await rel(folded.g, expected), `${family} ${h}x${wd} -> ${oc}: dx`).toBeLessThan(1e-6);
        // x's gradient is complete when the BN backward has written it: no dispatch sums after it.
        expect(folded.last, `${family}: the backward's last dispatch`).toMatch(/^bn_(lane|apply)_backward$/);
      } finally {
        T.setKernelFamily(null);
      }
    }
  });

  it('refuses a convolution that is not 1x1', () => {
    expect(() =>
      batchNormReluConv1x1(
        T.zeros([1, 4, 5, 5]),
        T.ones([4]),
        T.zeros([4]),
        null,
        null,
        { training: true },
        T.zeros([8, 4, 3, 3]),
      ),
    ).toThrow(/must be 1x1/);
  });
});
