// Finite-difference checks of every differentiable elementwise op, with broadcasting (the
// backward must sum gradients back to each operand's shape) and scalar operands.
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/node.js';
import type { ElementwiseName } from '../src/ops/elementwise-table.js';
import { refElementwise } from './reference/elementwise.js';
import { gradCheck } from './helpers/gradcheck.js';
import { randomArr, randomInts, seedFor, type UniformOptions } from './helpers/random.js';
import type { Arr } from './reference/ndarray.js';

beforeAll(async () => {
  await T.ready();
});

type Fn = (...args: (T.Tensor | number)[]) => T.Tensor;
const fn = (name: ElementwiseName): Fn => (T as unknown as Record<string, Fn>)[name]!;

const UNARY: [ElementwiseName, UniformOptions][] = [
  ['neg', {}],
  ['exp', { lo: -2, hi: 2 }],
  ['log', { lo: 0.2, hi: 3 }],
  ['sqrt', { lo: 0.2, hi: 3 }],
  ['rsqrt', { lo: 0.2, hi: 3 }],
  // Away from the kink at 0.
  ['relu', { minAbs: 0.1 }],
  ['abs', { minAbs: 0.1 }],
  ['sigmoid', { lo: -4, hi: 4 }],
  ['tanh', { lo: -3, hi: 3 }],
  ['square', {}],
  ['reciprocal', { minAbs: 0.3 }],
];

describe('unary gradients', () => {
  for (const [name, domain] of UNARY) {
    it(name, async () => {
      const seed = seedFor('grad', name);
      await gradCheck({
        label: name,
        seed,
        inputs: [randomArr([3, 7], seed, domain)],
        gpu: ([x]) => fn(name)(x!),
        ref: ([x]) => refElementwise(name, [x!]),
      });
    });
  }
});

const BINARY: [ElementwiseName, UniformOptions, UniformOptions][] = [
  ['add', {}, {}],
  ['sub', {}, {}],
  ['mul', {}, {}],
  ['div', {}, { minAbs: 0.5 }],
  ['pow', { lo: 0.3, hi: 2 }, { lo: -2, hi: 2 }],
  ['maximum', {}, {}],
  ['minimum', {}, {}],
];

describe('binary gradients with broadcasting', () => {
  for (const [name, da, db] of BINARY) {
    it(name, async () => {
      for (const [sa, sb] of [
        [
          [4, 5],
          [4, 5],
        ],
        [
          [3, 1, 5],
          [4, 1],
        ],
        [[6], [2, 3, 1]],
        [[], [3, 2]],
      ] as number[][][]) {
        const seed = seedFor('grad', name, sa, sb);
        const inputs = [randomArr(sa!, seed, da), randomArr(sb!, seed + 1, db)];
        await gradCheck({
          label: `${name} [${sa}] [${sb}]`,
          seed,
          inputs,
          gpu: ([a, b]) => fn(name)(a!, b!),
          ref: ([a, b]) => refElementwise(name, [a!, b!]),
        });
      }
    });
  }

  it('maximum / minimum split the gradient evenly at ties', async () => {
    // Integer inputs tie often; a central difference at a tie of max(a, b) is exactly 1/2.
    for (const name of ['maximum', 'minimum'] as const) {
      const seed = seedFor('grad-ties', name);
      const inputs = [randomInts([5, 6], seed, -2, 2), randomInts([5, 6], seed + 1, -2, 2)];
      expect(inputs[0]!.data.some((v, i) => v === inputs[1]!.data[i])).toBe(true);
      await gradCheck({
        label: `${name} ties`,
        seed,
        inputs,
        gpu: ([a, b]) => fn(name)(a!, b!),
        ref: ([a, b]) => refElementwise(name, [a!, b!]),
      });
    }
  });

  it('scalar operands on either side, pow with a scalar exponent or base', async () => {
    const x = randomArr([4, 3], seedFor('grad-scalar'), { minAbs: 0.3 });
    const cases: [string, Fn, (a: Arr) => Arr][] = [
      ['x * 2.5', (a) => T.mul(a, 2.5), (a) => refElementwise('mul', [a, 2.5])],
      ['3 - x', (a) => T.sub(3, a), (a) => refElementwise('sub', [3, a])],
      ['1.5 / x', (a) => T.div(1.5, a), (a) => refElementwise('div', [1.5, a])],
      ['x / 2.5', (a) => T.div(a, 2.5), (a) => refElementwise('div', [a, 2.5])],
      ['x ^ 3 (negative x)', (a) => T.pow(a, 3), (a) => refElementwise('pow', [a, 3])],
      ['x ^ -2', (a) => T.pow(a, -2), (a) => refElementwise('pow', [a, -2])],
      ['2 ^ x', (a) => T.pow(2, a), (a) => refElementwise('pow', [2, a])],
      ['maximum(x, 0.5)', (a) => T.maximum(a, 0.5), (a) => refElementwise('maximum', [a, 0.5])],
    ];
    for (const [label, gpu, ref] of cases) {
      await gradCheck({
        label,
        seed: seedFor('grad-scalar', label),
        inputs: [x],
        gpu: ([a]) => gpu(a!),
        ref: ([a]) => ref(a!),
      });
    }
  });
});

describe('ternary gradients', () => {
  it('where: to both branches, none to the mask, with broadcasting', async () => {
    const seed = seedFor('grad-where');
    const mask = randomInts([3, 1, 5], seed, 0, 1);
    const inputs = [mask, randomArr([4, 1], seed + 1), randomArr([5], seed + 2)];
    await gradCheck({
      label: 'where',
      seed,
      inputs,
      wrt: [1, 2],
      gpu: ([c, a, b]) => T.where(c!, a!, b!),
      ref: ([c, a, b]) => refElementwise('where', [c!, a!, b!]),
    });
  });

  it('clamp: 1 inside the bounds, 0 outside', async () => {
    const seed = seedFor('grad-clamp');
    const x = randomArr([6, 7], seed);
    // Keep inputs off the bounds themselves (the derivative jumps there).
    for (let i = 0; i < x.data.length; i++)
      if (Math.abs(x.data[i]! + 0.5) < 0.02 || Math.abs(x.data[i]! - 0.7) < 0.02) x.data[i] = 0.1;
    await gradCheck({
      label: 'clamp',
      seed,
      inputs: [x],
      gpu: ([a]) => T.clamp(a!, -0.5, 0.7),
      ref: ([a]) => refElementwise('clamp', [a!, -0.5, 0.7]),
    });
    const g = T.tensor([-2, 0, 2]);
    g.requiresGrad = true;
    T.sum(T.clamp(g, -1)).backward();
    expect(Array.from(await g.grad!.data())).toEqual([0, 1, 1]);
  });
});
