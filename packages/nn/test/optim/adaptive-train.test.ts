// Adam, AdamW and RMSprop against torch.optim (fixtures/golden/optim.json): 20 steps of a small
// conv net equal PyTorch's within 1e-5; a run resumed from a state dict equals an uninterrupted
// one bit for bit; state dicts have PyTorch's layout; one step takes few dispatches.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import {
  Adam,
  AdamW,
  Conv2d,
  Flatten,
  Linear,
  ReLU,
  RMSprop,
  Sequential,
  softmaxCrossEntropy,
  type Optimizer,
} from '../../src/index.js';
import { slotsPerDispatch } from '../../src/ops/multi-tensor.js';
import { adamRule } from '../../src/ops/adam.js';
import { expectGolden, loadGolden, stateMap, toTensor, type GoldenArray, type GoldenCase } from '../helpers/golden.js';

const all = loadGolden('optim');
const cases = all.filter((c) => c.op === 'train');

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => T.setPoisonOutputs(false));

// The initial weights and the batch, shared by every case.
const golden = all.find((c) => c.op === 'inputs')!;

function build(): Sequential {
  const net = new Sequential(
    new Conv2d(2, 4, 3, { stride: 2, padding: 1 }),
    new ReLU(),
    new Flatten(),
    new Linear(64, 3),
  );
  net.loadStateDict(stateMap(golden.init as Record<string, GoldenArray>), true);
  return net;
}

const camel = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), v]));

function optimizer(c: GoldenCase, net: Sequential): Optimizer<{ lr: number }> {
  const options = camel(c.options as Record<string, unknown>);
  const head = c.head as Record<string, unknown> | null;
  const params = head
    ? [{ params: net.at(0).parameters() }, { params: net.at(3).parameters(), ...camel(head) }]
    : net.parameters();
  switch (c.optimizer) {
    case 'Adam':
      return new Adam(params, options);
    case 'AdamW':
      return new AdamW(params, options);
    case 'RMSprop':
      return new RMSprop(params, options);
    default:
      throw new Error(String(c.optimizer));
  }
}

function step(net: Sequential, opt: Optimizer<{ lr: number }>, x: T.Tensor, y: T.Tensor): T.Tensor {
  opt.zeroGrad();
  const loss = T.scope(() => softmaxCrossEntropy(net.forward(x), y));
  loss.backward();
  opt.step();
  return loss;
}

const inputs = () => ({ x: toTensor(golden.x as GoldenArray), y: T.tensor(Int32Array.from(golden.y as number[])) });

/** `net` and `opt` hold bit for bit the weights and optimizer state of `want` and `wantOpt`. */
async function expectSameRun(
  net: Sequential,
  opt: Optimizer<{ lr: number }>,
  want: Sequential,
  wantOpt: Optimizer<{ lr: number }>,
): Promise<void> {
  const weights = want.stateDict();
  for (const [k, t] of net.stateDict())
    expect(Array.from(await t.data()), k).toEqual(Array.from(await weights.get(k)!.data()));
  const [sa, sb] = [wantOpt.stateDict(), opt.stateDict()];
  for (const [i, s] of sa.state) {
    for (const [k, v] of Object.entries(s)) {
      const r = sb.state.get(i)![k]!;
      if (typeof v === 'number') expect(r, `${i}.${k}`).toBe(v);
      else expect(Array.from(await (r as T.Tensor).data()), `${i}.${k}`).toEqual(Array.from(await v.data()));
    }
  }
}

describe('adaptive optimizers against torch.optim (20 steps of a conv net)', () => {
  for (const c of cases) {
    it(`${c.name as string}: losses and final weights within 1e-5`, async () => {
      const net = build();
      const opt = optimizer(c, net);
      const { x, y } = inputs();
      const losses: number[] = [];
      for (let i = 0; i < 20; i++) {
        const loss = step(net, opt, x, y);
        losses.push(await loss.item());
        loss.dispose();
      }
      losses.forEach((l, i) =>
        expect(Math.abs(l - (c.losses as number[])[i]!), `loss ${i + 1}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(l))),
      );
      const sd = net.stateDict();
      for (const [k, v] of Object.entries(c.final as Record<string, GoldenArray>))
        await expectGolden(sd.get(k)!, v, 1e-5, k);
      const state = opt.stateDict();
      for (const s of state.state.values()) {
        expect(Object.keys(s).sort(), 'state keys').toEqual(c.stateKeys);
        expect(s.step).toBe(20);
      }
      for (const k of Object.keys(state.param_groups[0]!))
        if (k !== 'initial_lr') expect(c.groupKeys as string[], `group key ${k}`).toContain(k);
    });
  }
});

describe('resuming from a state dict', () => {
  for (const c of cases) {
    it(`${c.name as string}: 8 steps, state dicts through a fresh net and optimizer, 12 more equal 20 uninterrupted bit for bit`, async () => {
      const { x, y } = inputs();
      const a = build();
      const oa = optimizer(c, a);
      for (let i = 0; i < 20; i++) step(a, oa, x, y).dispose();
      const b = build();
      const ob = optimizer(c, b);
      for (let i = 0; i < 8; i++) step(b, ob, x, y).dispose();
      const resumed = build();
      resumed.loadStateDict(b.stateDict());
      const or = optimizer(c, resumed);
      or.loadStateDict(ob.stateDict());
      // The loaded state is a copy: stepping the original further must not move the resumed run.
      step(b, ob, x, y).dispose();
      for (let i = 0; i < 12; i++) step(resumed, or, x, y).dispose();
      await expectSameRun(resumed, or, a, oa);
    });
  }
});

describe('replayed steps (T.replayable)', () => {
  for (const c of cases) {
    it(`${c.name as string}: 20 replayed steps equal 20 recorded ones bit for bit, step counts included`, async () => {
      const { x, y } = inputs();
      const a = build();
      const oa = optimizer(c, a);
      for (let i = 0; i < 20; i++) step(a, oa, x, y).dispose();
      const b = build();
      const ob = optimizer(c, b);
      // The bias corrections follow each parameter's step count, computed again at every replay.
      // The gradients go at the end of the replayed step (a step must not leave tensors it made).
      const replayed = T.replayable((xi, yi) => {
        const loss = step(b, ob, xi!, yi!);
        ob.zeroGrad();
        return [loss];
      });
      for (let i = 0; i < 20; i++) replayed.run([x, y])[0]!.dispose();
      expect(replayed.status).toMatchObject({ state: 'replaying', replays: 17 });
      await expectSameRun(b, ob, a, oa);
      replayed.dispose();
    });
  }
});

describe('optimizer state dicts and dispatches', () => {
  it('one Adam step updates every parameter in ceil(n / slots) dispatches', async () => {
    const params = [5, 300, 1, 64, 17, 9, 1000].map((n, i) => {
      const p = T.randn([n], { seed: i }).keep();
      p.requiresGrad = true;
      p.grad = T.randn([n], { seed: 50 + i }).keep();
      return p;
    });
    const opt = new Adam(params, { amsgrad: true });
    opt.step(); // first step: allocates (and zero-fills) the state
    await T.sync();
    const before = T.getEngine().counters.dispatches;
    opt.step();
    const slots = slotsPerDispatch(adamRule({ decoupled: false, amsgrad: true, maximize: false, decay: false }));
    expect(T.getEngine().counters.dispatches - before).toBe(Math.ceil(params.length / slots));
    expect(slots).toBeGreaterThanOrEqual(1);
  });

  it('gives each group its own options (betas are not shared)', () => {
    const opt = new Adam([{ params: [T.zeros([1]).keep()] }, { params: [T.zeros([1]).keep()], lr: 0.5 }], {
      betas: [0.8, 0.9],
    });
    opt.paramGroups[0]!.betas[0] = 0.5;
    expect(opt.paramGroups[1]).toMatchObject({ lr: 0.5, betas: [0.8, 0.9] });
  });

  it('skips parameters without a gradient: no state, no step', () => {
    const p = T.zeros([3]).keep();
    const q = T.zeros([2]).keep();
    q.grad = T.ones([2]).keep();
    const opt = new AdamW([p, q]);
    opt.step();
    const sd = opt.stateDict();
    expect([...sd.state.keys()]).toEqual([1]);
    expect(sd.state.get(1)!.step).toBe(1);
    expect(sd.param_groups[0]).toMatchObject({
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weight_decay: 1e-2,
      amsgrad: false,
      maximize: false,
      params: [0, 1],
    });
  });

  it('keeps the state buffers the options ask for when they change between steps', async () => {
    const p = T.zeros([3]).keep();
    p.grad = T.ones([3]).keep();
    const opt = new RMSprop([p], { momentum: 0 });
    opt.step();
    opt.paramGroups[0]!.momentum = 0.9;
    opt.paramGroups[0]!.centered = true;
    opt.step();
    expect(Object.keys(opt.stateDict().state.get(0)!).sort()).toEqual([
      'grad_avg',
      'momentum_buffer',
      'square_avg',
      'step',
    ]);
    opt.paramGroups[0]!.momentum = 0;
    opt.step();
    const sd = opt.stateDict();
    expect(Object.keys(sd.state.get(0)!).sort()).toEqual(['grad_avg', 'square_avg', 'step']);
    const q = T.zeros([3]).keep();
    const other = new RMSprop([q]);
    other.loadStateDict(sd);
    expect(other.paramGroups[0]).toMatchObject({ momentum: 0, centered: true });
  });

  it('refuses state that does not fit, naming the parameter and the key', () => {
    const p = T.zeros([4]).keep();
    p.grad = T.ones([4]).keep();
    const src = new Adam([p], { amsgrad: true });
    src.step();
    const sd = src.stateDict();
    const dst = () => new Adam([T.zeros([4]).keep()]);
    // amsgrad comes with the groups, so max_exp_avg_sq is expected and accepted.
    expect(() => dst().loadStateDict(sd)).not.toThrow();
    const stray = { ...sd, state: new Map([[0, { ...sd.state.get(0)!, momentum_buffer: T.zeros([4]) }]]) };
    expect(() => dst().loadStateDict(stray)).toThrow(/parameter 0 has state 'momentum_buffer'/);
    const small = { ...sd, state: new Map([[0, { ...sd.state.get(0)!, exp_avg: T.zeros([3]) }]]) };
    expect(() => dst().loadStateDict(small)).toThrow(/'exp_avg' of parameter 0 must be a tensor of 4 values/);
    const missing = { ...sd, state: new Map([[0, { step: 1, exp_avg: T.zeros([4]) }]]) };
    expect(() => dst().loadStateDict(missing)).toThrow(/parameter 0 has no 'exp_avg_sq'/);
    expect(() => dst().loadStateDict({ ...sd, state: new Map([[3, sd.state.get(0)!]]) })).toThrow(
      /state for parameter 3, the optimizer has 1/,
    );
    expect(() => new Adam([p], { betas: [0.9, 1] })).toThrow(/betas\[1\] must be a number in \[0, 1\)/);
    expect(() => new RMSprop([p], { lr: -1 })).toThrow(/lr must be/);
    expect(() => new AdamW([])).toThrow(/AdamW: got an empty parameter list/);
  });
});
