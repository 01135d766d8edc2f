// batchNormReluConv2d (bn-relu-conv.ts): on the cpu family the BN-ReLU runs inside the Winograd
// input transform. Against the composition conv2d(batchNormRelu(x)) on fresh random inputs at
// sizes that divide no tile: the output, the gradients of x, the BN weight and bias and the
// conv weight, and the running statistics, in training and eval, with both Winograd tiles and
// without running statistics; and the fused forward writes no BN output.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { batchNormRelu } from '../../src/ops/batchnorm.js';
import { batchNormReluConv2d } from '../../src/ops/bn-relu-conv.js';
import { conv2d } from '../../src/ops/conv-pool.js';
import { setWinogradTile, type WinogradTile } from '../../src/ops/conv2d-winograd.js';

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => {
  setWinogradTile(null);
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
}

async function compare({ shape, oc, training, running, tile }: Case, seed: number): Promise<void> {
  T.setKernelFamily('cpu');
  setWinogradTile(tile);
  try {
    const c = shape[1];
    const leaf = (t: T.Tensor) => {
      t.requiresGrad = true;
      return t;
    };
    const x = leaf(T.randn(shape, { seed }));
    const gamma = leaf(T.add(T.rand([c], { seed: seed + 1 }), 0.5));
    const beta = leaf(T.randn([c], { seed: seed + 2 }));
    const w = leaf(T.mul(T.randn([oc, c, 3, 3], { seed: seed + 3 }), 0.2));
    const r = T.randn([shape[0], oc, shape[2], shape[3]], { seed: seed + 4 });
    const stats = () => (running ? [T.randn([c], { seed: seed + 5 }), T.add(T.rand([c], { seed: seed + 6 }), 0.5)] : [null, null]);
    const [rmA, rvA] = stats();
    const [rmB, rvB] = stats();
    const bn = { training, momentum: 0.1, eps: 1e-5 };
    const run = (fused: boolean, rm: T.Tensor | null, rv: T.Tensor | null) => {
      const y = fused ? batchNormReluConv2d(x, gamma, beta, rm, rv, bn, w, { padding: 1 }) : conv2d(batchNormRelu(x, gamma, beta, rm, rv, bn), w, null, { padding: 1 });
      T.scope(() => T.sum(T.mul(y, r)).backward());
      const grads = [x, gamma, beta, w].map((t) => {
        const g = t.grad!;
        t.grad = null;
        return g;
      });
      return { y, grads };
    };
    const fused = run(true, rmA, rvA);
    const plain = run(false, rmB, rvB);
    const label = `${shape} -> ${oc}, F(${tile}), ${training ? 'training' : 'eval'}${running ? '' : ', no running stats'}`;
    expect(await rel(fused.y, plain.y), `${label}: y`).toBeLessThan(1e-5);
    const names = ['dx', 'dgamma', 'dbeta', 'dw'];
    for (let i = 0; i < 4; i++) expect(await rel(fused.grads[i]!, plain.grads[i]!), `${label}: ${names[i]}`).toBeLessThan(2e-5);
    if (running) {
      expect(await rel(rmA!, rmB!), `${label}: running mean`).toBeLessThan(1e-6);
      expect(await rel(rvA!, rvB!), `${label}: running var`).toBeLessThan(1e-6);
    }
  } finally {
    setWinogradTile(null);
    T.setKernelFamily(null);
  }
}

describe('batchNormReluConv2d', () => {
  const cases: Case[] = [
    { shape: [2, 16, 10, 9], oc: 16, training: true, running: true, tile: 2 },
    { shape: [2, 16, 13, 14], oc: 20, training: true, running: true, tile: 4 },
    { shape: [3, 24, 7, 12], oc: 16, training: false, running: true, tile: 4 },
    { shape: [1, 16, 9, 9], oc: 32, training: true, running: false, tile: 2 },
  ];
  cases.forEach((c, i) => it(`matches the composition: [${c.shape}] -> ${c.oc}, F(${c.tile}x${c.tile}), ${c.training ? 'training' : 'eval'}${c.running ? '' : ', no running stats'}`, () => compare(c, 300 + 10 * i)));

  it('never writes the BN-ReLU output on the cpu family (no BN apply kernel in the forward)', async () => {
    T.setKernelFamily('cpu');
    try {
      const x = T.randn([2, 16, 12, 12], { seed: 9 });
      const [gamma, beta] = [T.ones([16]), T.zeros([16])];
      const w = T.randn([16, 16, 3, 3], { seed: 10 });
      const p = await T.profileKernels(() => batchNormReluConv2d(x, gamma, beta, null, null, { training: true }, w, { padding: 1 }).data());
      const names = p.kernels.map((k) => k.name);
      expect(names).toContain('nn_winograd_input');
      expect(names).toContain('bn_partial_forward');
      expect(names).not.toContain('bn_apply_forward');
    } finally {
      T.setKernelFamily(null);
    }
  });
});
