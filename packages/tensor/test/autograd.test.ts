// Autograd behaviour: accumulation, shared and diamond-shaped graphs, gradients a rule folds in
// (PendingGradients), noGrad/detach, the errors backward() raises, and saved tensors released
// once their node has run.
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/node.js';
import { download, expectClose, upload } from './helpers/gpu.js';
import { randomArr, seedFor } from './helpers/random.js';
import { mapArr } from './reference/ndarray.js';

beforeAll(async () => {
  await T.ready();
});

function leaf(seed: string, shape = [3, 5]) {
  const a = randomArr(shape, seedFor(seed), { lo: -1, hi: 1 });
  const x = upload(a);
  x.requiresGrad = true;
  return { a, x };
}

describe('gradient flow', () => {
  it('accumulates into .grad across two backward calls', async () => {
    const { a, x } = leaf('accumulate');
    T.sum(T.mul(x, 3)).backward();
    T.sum(T.mul(x, x)).backward();
    // 3 + 2x
    expectClose(
      await download(x.grad!),
      mapArr(a, (v) => 3 + 2 * v),
      {},
      'accumulated',
    );
  });

  it('a tensor used twice gets both contributions (x * x)', async () => {
    const { a, x } = leaf('twice');
    T.sum(T.mul(x, x)).backward();
    expectClose(
      await download(x.grad!),
      mapArr(a, (v) => 2 * v),
      {},
      'x*x',
    );
  });

  it('diamond graphs sum the gradients of both paths once', async () => {
    const { a, x } = leaf('diamond');
    const e = T.exp(x);
    const top = T.mul(e, 2);
    const bottom = T.square(e);
    T.sum(T.add(top, bottom)).backward();
    // d/dx (2 e^x + e^2x) = 2 e^x + 2 e^2x
    expectClose(
      await download(x.grad!),
      mapArr(a, (v) => 2 * Math.exp(v) + 2 * Math.exp(2 * v)),
      { rtol: 1e-5 },
      'diamond',
    );
  });

  it('a node feeding many others sums their gradients addSameMax() at a time, as exactly as pairwise adds would', async () => {
    // e = exp(x) feeds k products e * c_j: its incoming gradients are the c_j, summed in arrival
    // order. 2, 3, K, K + 1 and 2K + 3 uses cover the remainders of the groups of K.
    const K = T.addSameMax();
    const uses = [2, 3, K, K + 1, 2 * K + 3];
    const counts = new Map<number, number>();
    for (const k of uses) {
      const { a, x } = leaf(`fan-${k}`, [4, 37]);
      const cs = Array.from({ length: k }, (_, j) => randomArr([4, 37], seedFor(`fan-c-${k}-${j}`), { lo: -1, hi: 1 }));
      const e = T.exp(x);
      let total: T.Tensor | null = null;
      for (const c of cs) {
        const term = T.sum(T.mul(e, upload(c)));
        total = total ? T.add(total, term) : term;
      }
      const p = await T.profileKernels(async () => {
        total!.backward();
        await x.grad!.data();
      });
      counts.set(k, p.kernels.find((kk) => kk.name === 'elementwise')!.dispatches);
      // The gradient at e: Σ c_j in the backward's (reverse) order, one f32 add at a time.
      const order = [...cs].reverse();
      const want = mapArr(a, () => 0);
      for (let i = 0; i < want.data.length; i++) {
        let s = Math.fround(order[0]!.data[i]!);
        for (const c of order.slice(1)) s = Math.fround(s + Math.fround(c.data[i]!));
        want.data[i] = Math.fround(s * Math.fround(Math.exp(a.data[i]!)));
      }
      expectClose(await download(x.grad!), want, { rtol: 1e-6 }, `${k} uses`);
    }
    // Each use costs the same kernels (u) apart from the summing: one kernel per K - 1 arrivals
    // after the first (ceil((k - 1) / (K - 1))), where pairwise adds would take k - 1.
    const c = (k: number) => counts.get(k)!;
    const u = c(3) - c(2);
    for (const k of uses.slice(2))
      expect(c(k) - c(2), `${k} uses`).toBe((k - 2) * u + Math.ceil((k - 1) / (K - 1)) - 1);
  });

  it('addSame sums 1 to addSameMax() tensors of one shape in one kernel and refuses others', async () => {
    const K = T.addSameMax();
    expect(K).toBe(Math.min(8, T.deviceInfo().limits.maxStorageBuffersPerShaderStage - 1));
    const xs = Array.from({ length: K }, (_, j) => randomArr([3, 7], seedFor(`addsame-${j}`), { lo: -1, hi: 1 }));
    for (let n = 1; n <= K; n++) {
      const got = T.addSame(xs.slice(0, n).map((x) => upload(x)));
      const want = mapArr(xs[0]!, () => 0);
      for (let i = 0; i < want.data.length; i++) {
        let s = Math.fround(xs[0]!.data[i]!);
        for (const x of xs.slice(1, n)) s = Math.fround(s + Math.fround(x.data[i]!));
        want.data[i] = s;
      }
      expectClose(await download(got), want, { rtol: 0, atol: 0 }, `${n} operands`);
    }
    expect(() => T.addSame([T.zeros([2, 3]), T.zeros([3, 2])])).toThrow(/one shape/);
    expect(() => T.addSame(Array.from({ length: K + 1 }, () => T.zeros([2])))).toThrow(new RegExp(`1-${K} tensors`));
  });

  it('a deep chain (3,000 nodes) needs no recursion', async () => {
    const x = T.tensor([0.5, -1]);
    x.requiresGrad = true;
    let y = x;
    for (let i = 0; i < 3000; i++) y = T.add(y, 0.001);
    T.sum(y).backward();
    expect(Array.from(await x.grad!.data())).toEqual([1, 1]);
  });

  it('a seed gradient for a non-scalar output weights each element', async () => {
    const { x } = leaf('seeded');
    const g = randomArr([3, 5], seedFor('seed-grad'));
    T.mul(x, 2).backward(upload(g));
    expectClose(
      await download(x.grad!),
      mapArr(g, (v) => 2 * v),
      {},
      'seeded',
    );
  });
});

describe('pending gradients', () => {
  // scale(x) = 2x, whose rule folds a gradient already waiting for x into its own (2g + waiting);
  // `takes` records what each call of the rule was offered.
  const takes: (number[] | null)[] = [];
  const scale = T.defineOp({
    name: 'scale2',
    forward: (_ctx, t: T.Tensor) => T.mul(t, 2),
    backward: (_ctx, g, pending) => {
      const waiting = pending.take(0);
      takes.push(waiting ? [...waiting.shape] : null);
      if (!waiting) return [T.mul(g, 2)];
      const sum = T.add(waiting, T.mul(g, 2));
      waiting.dispose();
      return [sum];
    },
  });

  it("a rule folds the gradient waiting for its input into its own: x's second consumer's sum", async () => {
    takes.length = 0;
    const { a, x } = leaf('pending');
    const h = T.exp(x);
    // concat's rule runs first (it consumes scale's output) and leaves a gradient waiting for h.
    T.sum(T.mul(T.concat([h, scale(h)], 1), 3)).backward();
    expect(takes).toEqual([[3, 5]]);
    // d/dx of 3·exp(x) + 6·exp(x)
    expectClose(
      await download(x.grad!),
      mapArr(a, (v) => 9 * Math.exp(v)),
      {},
      'folded',
    );
  });

  it('nothing is offered where no gradient waits yet (the other consumer runs later)', async () => {
    takes.length = 0;
    const { a, x } = leaf('nothing-pending');
    T.sum(scale(x)).backward();
    expect(takes).toEqual([null]);
    expectClose(
      await download(x.grad!),
      mapArr(a, () => 2),
      {},
      'unfolded',
    );
  });

  it('a rule that takes the waiting gradient and returns none is a bug backward() names', () => {
    const lossy = T.defineOp({
      name: 'lossy',
      forward: (_ctx, t: T.Tensor) => T.mul(t, 2),
      backward: (_ctx, _g, pending) => {
        pending.take(0)?.dispose();
        return [null];
      },
    });
    const { x } = leaf('lossy');
    const h = T.exp(x);
    const loss = T.sum(T.concat([h, lossy(h)], 1));
    expect(() => loss.backward()).toThrow(/'lossy': its rule took the gradient waiting for input 0 and returned none/);
  });
});

describe('noGrad and detach', () => {
  it('noGrad records nothing and restores the previous mode, even after a throw', () => {
    const { x } = leaf('nograd');
    const y = T.noGrad(() => {
      expect(T.isGradEnabled()).toBe(false);
      return T.mul(x, 2);
    });
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(T.isGradEnabled()).toBe(true);
    expect(() =>
      T.noGrad(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(T.isGradEnabled()).toBe(true);
    expect(() => T.sum(y).backward()).toThrow(T.TensorError);
  });

  it('detach cuts the graph: gradient flows only through the attached path', async () => {
    const { a, x } = leaf('detach');
    const d = T.detach(T.mul(x, 2));
    expect(d.requiresGrad).toBe(false);
    T.sum(T.mul(d, x)).backward();
    // d/dx (stop(2x) * x) = 2x, not 4x.
    expectClose(
      await download(x.grad!),
      mapArr(a, (v) => 2 * v),
      {},
      'detach',
    );
  });
});

describe('backward errors', () => {
  it('a non-scalar output without a gradient, or a gradient of the wrong shape, is rejected', () => {
    const { x } = leaf('nonscalar');
    const y = T.mul(x, 2);
    expect(() => y.backward()).toThrow(/non-scalar/);
    expect(() => y.backward(T.ones([5, 3]))).toThrow(T.TensorError);
  });

  it('a second backward through the same (freed) graph throws a clear error', () => {
    const { x } = leaf('twice-backward');
    const loss = T.sum(T.exp(x));
    loss.backward();
    expect(() => loss.backward()).toThrow(/a second time/);
  });

  it('only floating-point tensors can require gradients, as in PyTorch', () => {
    const xi = T.tensor(Int32Array.from([1, 2, 3]));
    expect(() => {
      xi.requiresGrad = true;
    }).toThrow('only f32 tensors can require gradients; this one is i32');
    expect(xi.requiresGrad).toBe(false);
    xi.requiresGrad = false; // turning it off is always allowed
    // An op with a backward rule whose result is integer records nothing (torch.round(x).long()).
    const truncate = T.defineOp({
      name: 'truncate',
      forward: (_ctx, t: T.Tensor) => T.cast(t, 'i32'),
      backward: (_ctx, g) => [g],
    });
    const { x } = leaf('int-output');
    const idx = truncate(x);
    expect(idx.requiresGrad).toBe(false);
    expect(idx.gradFn).toBeNull();
  });
});

describe('saved tensors', () => {
  it('are released as backward passes their node', async () => {
    const { x } = leaf('saved', [64, 64]);
    await T.sync();
    const before = T.memory().liveBytes;
    const y = T.exp(x); // saves its output for backward
    const loss = T.sum(y);
    y.dispose(); // our handle goes; the node's saved view keeps the buffer alive
    const during = T.memory().liveBytes;
    expect(during).toBeGreaterThan(before + 64 * 64 * 4 - 1);
    loss.backward();
    const grad = x.grad!;
    // Left: the loss (one element) and the gradient; exp's output is back in the pool.
    const lossBytes = 256;
    expect(T.memory().liveBytes).toBe(before + lossBytes + T.getEngine().storagePool.sizeOf(grad.buffer));
    loss.dispose();
    grad.dispose();
    x.grad = null;
    expect(T.memory().liveBytes).toBe(before);
  });

  it('are released when the outputs go without a backward', () => {
    const { x } = leaf('unreached', [32, 32]);
    const before = T.memory().liveBytes;
    T.scope(() => {
      T.sum(T.mul(T.exp(x), T.sigmoid(x)));
    });
    expect(T.memory().liveBytes).toBe(before);
  });
});
