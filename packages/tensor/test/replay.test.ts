// Step replay (replay.ts): a replayed training step must leave the weights bit for bit where
// recording every step leaves them, on both kernel families; steps a replay cannot repeat
// (random numbers, state replaced instead of updated, a freed weight) keep recording.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/node.js';

const FAMILIES = ['cpu', 'gpu'] as const;

beforeAll(async () => {
  await T.ready();
});
afterAll(() => T.setKernelFamily(null));

interface Net {
  w1: T.Tensor;
  w2: T.Tensor;
  /** A state tensor updated in place every step (like batch norm's running mean). */
  ema: T.Tensor;
}

function makeNet(): Net {
  const w1 = T.rand([13, 7], { seed: 11, low: -0.5, high: 0.5 }).keep();
  const w2 = T.rand([7, 3], { seed: 12, low: -0.5, high: 0.5 }).keep();
  w1.requiresGrad = true;
  w2.requiresGrad = true;
  return { w1, w2, ema: T.zeros([7]).keep() };
}

/** Forward, loss, backward and an in-place SGD update; returns the loss. */
function trainStep(net: Net, lr: number, x: T.Tensor, y: T.Tensor): T.Tensor {
  const loss = T.scope(() => {
    const h = T.relu(T.matmul(x, net.w1));
    T.noGrad(() => T.assign(net.ema, T.add(T.mul(net.ema, 0.9), T.mul(T.mean(h, 0), 0.1))));
    const d = T.sub(T.matmul(h, net.w2), y);
    return T.mean(T.mul(d, d));
  });
  loss.backward();
  T.noGrad(() =>
    T.scope(() => {
      for (const w of [net.w1, net.w2]) {
        T.assign(w, T.sub(w, T.mul(w.grad!, lr)));
        w.grad!.dispose();
        w.grad = null;
      }
    }),
  );
  return loss;
}

function batch(i: number): [T.Tensor, T.Tensor] {
  return [T.rand([5, 13], { seed: 100 + i }), T.rand([5, 3], { seed: 200 + i })];
}

async function values(net: Net): Promise<Float32Array[]> {
  return [await net.w1.data(), await net.w2.data(), await net.ema.data()] as Float32Array[];
}

/** Train `steps` steps through `run`; returns the losses and the final weights. */
async function train(
  steps: number,
  run: (net: Net, i: number, x: T.Tensor, y: T.Tensor) => T.Tensor,
): Promise<{ losses: number[]; weights: Float32Array[] }> {
  const net = makeNet();
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const [x, y] = batch(i);
    const loss = run(net, i, x, y);
    losses.push(await loss.item());
    for (const t of [x, y, loss]) t.dispose();
  }
  const weights = await values(net);
  for (const t of [net.w1, net.w2, net.ema]) t.dispose();
  return { losses, weights };
}

describe.each(FAMILIES)('step replay, %s kernels', (family) => {
  beforeAll(() => T.setKernelFamily(family));

  it('a replayed step leaves weights, state and losses bit for bit as recording every step', async () => {
    const recorded = await train(9, (net, _i, x, y) => trainStep(net, 0.05, x, y));
    let step: T.ReplayableStep | null = null;
    const dispatches: number[] = [];
    const replayed = await train(9, (net, _i, x, y) => {
      step ??= T.replayable((xi, yi) => [trainStep(net, 0.05, xi!, yi!)]);
      const d0 = T.getEngine().counters.dispatches;
      const [loss] = step.run([x, y]);
      dispatches.push(T.getEngine().counters.dispatches - d0);
      return loss!;
    });
    expect(step!.status).toMatchObject({ state: 'replaying', reason: null, captures: 2, replays: 6 });
    expect(replayed.losses).toEqual(recorded.losses);
    replayed.weights.forEach((w, i) => expect(w).toEqual(recorded.weights[i]));
    // A replay runs the captured dispatches (plus nothing but copies): the same count every step.
    expect(new Set(dispatches.slice(3)).size).toBe(1);
    expect(dispatches[8]).toBe(dispatches[1]);
    step!.dispose();
  });

  it('a new key (another learning rate) captures again and follows the new value', async () => {
    const lrOf = (i: number) => (i < 6 ? 0.05 : 0.02);
    const recorded = await train(12, (net, i, x, y) => trainStep(net, lrOf(i), x, y));
    let step: T.ReplayableStep | null = null;
    let lr = 0;
    const replayed = await train(12, (net, i, x, y) => {
      step ??= T.replayable((xi, yi) => [trainStep(net, lr, xi!, yi!)]);
      lr = lrOf(i);
      return step.run([x, y], `lr=${lr}`)[0]!;
    });
    expect(step!.status).toMatchObject({ state: 'replaying', captures: 4, replays: 7 });
    expect(replayed.losses).toEqual(recorded.losses);
    replayed.weights.forEach((w, i) => expect(w).toEqual(recorded.weights[i]));
    step!.dispose();
  });
});

describe('steps a replay cannot repeat', () => {
  it('a step that draws random numbers replays the draws the recording would make', async () => {
    const w = T.rand([13, 7], { seed: 3 }).keep();
    // Draws from the default generator move every step; a fixed seed's stay.
    const fn = (x: T.Tensor) =>
      T.scope(() => [T.noGrad(() => T.add(T.mul(T.matmul(x, w), T.rand([5, 7])), T.rand([5, 7], { seed: 5 })))]);
    const outputs = async (replay: boolean) => {
      T.manualSeed(42);
      const step = T.replayable((x) => fn(x!));
      const out: Float32Array[] = [];
      for (let i = 0; i < 7; i++) {
        const [x] = batch(i);
        const [y] = replay ? step.run([x!]) : fn(x!);
        out.push((await y!.data()) as Float32Array);
        for (const t of [x!, y!]) t.dispose();
      }
      const status = step.status;
      step.dispose();
      return { out, status, rng: T.getRngState() };
    };
    const recorded = await outputs(false);
    const replayed = await outputs(true);
    expect(replayed.status.reason).toBeNull();
    expect(replayed.status).toMatchObject({ state: 'replaying', replays: 4 });
    expect(replayed.rng).toEqual(recorded.rng);
    replayed.out.forEach((o, i) => expect(o).toEqual(recorded.out[i]));
    w.dispose();
  });

  it('a step that passes a new value every step is never replayed, and says why', async () => {
    const net = makeNet();
    let i = 0;
    const step = T.replayable((x) => T.scope(() => [T.noGrad(() => T.mul(T.matmul(x!, net.w1), i))]));
    for (; i < 6; i++) {
      const [x] = batch(i);
      const [out] = step.run([x!]);
      for (const t of [x!, out!]) t.dispose();
    }
    // Four captures (the default), none repeating the one before: no more tries.
    expect(step.status).toMatchObject({ state: 'off', captures: 4, replays: 0 });
    expect(step.status.reason).toMatch(/other parameters the next time/);
    for (const t of [net.w1, net.w2, net.ema]) t.dispose();
  });

  it('a step that replaces a state tensor instead of updating it keeps recording', async () => {
    let state = T.zeros([3]).keep();
    const step = T.replayable((x) => {
      const next = T.add(state, T.sum(x!, 0)).keep();
      state.dispose();
      state = next;
      return [T.mul(state, 2)];
    });
    let expected = new Float32Array(3);
    for (let i = 0; i < 6; i++) {
      const x = T.rand([4, 3], { seed: i });
      const xs = (await x.data()) as Float32Array;
      expected = expected.map((v, j) => Math.fround(v + Math.fround(xs[j]! + xs[3 + j]! + xs[6 + j]! + xs[9 + j]!)));
      const [out] = step.run([x]);
      x.dispose();
      out!.dispose();
    }
    expect(step.status.replays).toBe(0);
    expect(step.status.reason).toMatch(/frees 1 tensor\(s\) made before it/);
    expect(Array.from(await state.data())).toEqual(Array.from(expected));
    state.dispose();
  });

  it('a freed weight stops the replay before it reads the freed buffer', async () => {
    let w = T.rand([13, 7], { seed: 3 }).keep();
    const step = T.replayable((x) => [T.noGrad(() => T.matmul(x!, w))]);
    for (let i = 0; i < 4; i++) {
      const [x] = batch(i);
      step.run([x!])[0]!.dispose();
      x!.dispose();
    }
    expect(step.status.state).toBe('replaying');
    w.dispose();
    w = T.rand([13, 7], { seed: 4 }).keep();
    const [x] = batch(9);
    const [out] = step.run([x!]);
    expect(step.status.reason).toMatch(/freed or replaced/);
    expect(await out!.data()).toEqual(await T.matmul(x!, w).data());
    for (const t of [x!, out!, w]) t.dispose();
    step.dispose();
  });

  it('host effects registered in the step run on every replay', async () => {
    let calls = 0;
    let count = 0;
    const w = T.rand([13, 7], { seed: 3 }).keep();
    const step = T.replayable((x) => {
      calls++;
      T.hostEffect(() => count++);
      return [T.noGrad(() => T.matmul(x!, w))];
    });
    for (let i = 0; i < 7; i++) {
      const [x] = batch(i);
      step.run([x!])[0]!.dispose();
      x!.dispose();
    }
    expect(step.status.replays).toBe(4);
    expect(calls).toBe(3);
    expect(count).toBe(7);
    step.dispose();
    w.dispose();
  });
});
