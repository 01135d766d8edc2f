// Every op of the ELEMENTWISE table against its float64 reference, on the kernel's three
// indexing paths (vec4 linear, scalar linear, strided broadcast), with poisoned outputs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/node.js';
import { ELEMENTWISE, type ElementwiseName } from '../src/ops/elementwise-table.js';
import { refElementwise, type RefOperand } from './reference/elementwise.js';
import { download, expectClose, upload } from './helpers/gpu.js';
import { randomArr, randomInts, seedFor, type UniformOptions } from './helpers/random.js';
import type { Arr } from './reference/ndarray.js';

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => T.setPoisonOutputs(false));

type Fn = (...args: (T.Tensor | number)[]) => T.Tensor;
const fn = (name: ElementwiseName): Fn => (T as unknown as Record<string, Fn>)[name]!;

// Input domains that keep each function finite and away from its kinks.
const DOMAIN: Partial<Record<ElementwiseName, UniformOptions[]>> = {
  exp: [{ lo: -3, hi: 3 }],
  log: [{ lo: 0.05, hi: 4 }],
  sqrt: [{ lo: 0.05, hi: 4 }],
  rsqrt: [{ lo: 0.05, hi: 4 }],
  relu: [{ minAbs: 0.01 }],
  sigmoid: [{ lo: -8, hi: 8 }],
  tanh: [{ lo: -12, hi: 12 }],
  reciprocal: [{ minAbs: 0.25 }],
  floor: [{ lo: -5, hi: 5 }],
  ceil: [{ lo: -5, hi: 5 }],
  div: [{}, { minAbs: 0.5 }],
  pow: [
    { lo: 0.2, hi: 2 },
    { lo: -2, hi: 2 },
  ],
};
const COMPARISONS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;

function inputs(name: ElementwiseName, shapes: number[][], tag: string): Arr[] {
  return shapes.map((s, k) => {
    const seed = seedFor('elementwise', name, tag, k);
    // Small integers give comparisons and maximum/minimum real ties.
    if ((COMPARISONS as readonly string[]).includes(name)) return randomInts(s, seed, -2, 2);
    return randomArr(s, seed, DOMAIN[name]?.[k] ?? {});
  });
}

async function check(name: ElementwiseName, operands: RefOperand[], label: string, tol = { rtol: 1e-5, atol: 1e-6 }) {
  const args = operands.map((o) => (typeof o === 'number' ? o : upload(o)));
  const y = fn(name)(...args);
  const want = refElementwise(name, operands);
  expect(y.dtype).toBe('f32');
  expectClose(await download(y), want, tol, `${name} ${label}`);
  y.dispose();
  for (const a of args) if (typeof a !== 'number') a.dispose();
}

const unary = (Object.keys(ELEMENTWISE) as ElementwiseName[]).filter((n) => ELEMENTWISE[n].arity === 1);
const binary = (Object.keys(ELEMENTWISE) as ElementwiseName[]).filter((n) => ELEMENTWISE[n].arity === 2);

describe('unary ops', () => {
  for (const name of unary) {
    it(name, async () => {
      // 1000: vec4 path; [3, 37]: scalar linear path (111 elements); [] rank 0.
      for (const shape of [[1000], [3, 37], []])
        await check(name, inputs(name, [shape], shape.join('x')), `[${shape}]`);
    });
  }
});

// Broadcasting in every position: equal shapes, size-1 dims on either side, missing leading
// dims, rank 0, outer products.
const BINARY_SHAPES: [number[], number[]][] = [
  [
    [8, 16],
    [8, 16],
  ],
  [
    [5, 7],
    [5, 7],
  ],
  [
    [3, 1, 5],
    [4, 1],
  ],
  [
    [4, 1],
    [3, 1, 5],
  ],
  [
    [6, 1],
    [1, 7],
  ],
  [[1], [2, 3]],
  [[2, 3], []],
  [[], [2, 3]],
  [[], []],
  [
    [2, 1, 3, 1],
    [5, 1, 4],
  ],
];

describe('binary ops with broadcasting', () => {
  for (const name of binary) {
    it(name, async () => {
      // Every broadcast position for the ops whose kernels differ only by expression would
      // mostly re-test the indexing: add, mul and maximum get all shapes, the rest a
      // vec4, a strided and a rank-0 case.
      const shapes = ['add', 'mul', 'maximum'].includes(name)
        ? BINARY_SHAPES
        : [BINARY_SHAPES[0]!, BINARY_SHAPES[2]!, BINARY_SHAPES[6]!];
      for (const [sa, sb] of shapes) {
        const [a, b] = inputs(name, [sa, sb], `${sa}|${sb}`);
        await check(name, [a!, b!], `[${sa}] ∘ [${sb}]`);
      }
      // Scalar operands on either side.
      const [x] = inputs(name, [[4, 9]], 'scalar');
      const s = name === 'pow' ? 1.5 : (COMPARISONS as readonly string[]).includes(name) ? 1 : 0.75;
      await check(name, [x!, s], 'tensor ∘ scalar');
      if (name !== 'pow') await check(name, [s, x!], 'scalar ∘ tensor');
    });
  }

  it('maximum / minimum with ties', async () => {
    const a = randomInts([7, 9], seedFor('tie-a'), -2, 2);
    const b = randomInts([7, 9], seedFor('tie-b'), -2, 2);
    for (const name of ['maximum', 'minimum'] as const) await check(name, [a, b], 'ties');
  });

  it('pow: negative bases with integer exponents, x^0 = 1, scalar base', async () => {
    const base = randomArr([5, 8], seedFor('pow-neg'), { lo: -2, hi: 2, minAbs: 0.1 });
    const expo = randomInts([5, 8], seedFor('pow-int'), -3, 3);
    await check('pow', [base, expo], 'negative base', { rtol: 1e-5, atol: 1e-5 });
    for (const e of [0, 2, 3, -1]) await check('pow', [base, e], `x^${e}`);
    await check('pow', [2, randomArr([33], seedFor('pow-exp'))], '2^x');
  });
});

describe('ternary ops', () => {
  it('where with a mask in every broadcast position, f32 and i32 masks, scalar branches', async () => {
    const mask = randomInts([3, 1, 1], seedFor('where-mask'), 0, 1);
    const a = randomArr([1, 4, 1], seedFor('where-a'));
    const b = randomArr([5], seedFor('where-b'));
    await check('where', [mask, a, b], 'broadcast');
    await check(
      'where',
      [
        randomInts([6, 10], seedFor('where-m2'), 0, 1),
        randomArr([6, 10], seedFor('w-a2')),
        randomArr([6, 10], seedFor('w-b2')),
      ],
      'same shape',
    );
    await check('where', [mask, 2.5, b], 'scalar a');
    await check('where', [mask, a, -1], 'scalar b');
    const mi = T.tensor(Int32Array.from([0, 3, 0, -1]), [4, 1]);
    const y = T.where(mi, T.ones([4, 3]), T.full([3], 7));
    expect(Array.from(await y.data())).toEqual([7, 7, 7, 1, 1, 1, 7, 7, 7, 1, 1, 1]);
  });

  it('clamp with both, one or no bound', async () => {
    const x = randomArr([9, 13], seedFor('clamp'), { lo: -3, hi: 3 });
    for (const [lo, hi] of [
      [-1, 0.5],
      [-0.25, Infinity],
      [-Infinity, 1.25],
      [-Infinity, Infinity],
    ] as const) {
      const t = upload(x);
      const y = T.clamp(t, lo, hi);
      expectClose(await download(y), refElementwise('clamp', [x, lo, hi]), { rtol: 0, atol: 0 }, `clamp(${lo}, ${hi})`);
    }
  });
});

describe('fused map', () => {
  it('evaluates an expression over broadcast tensors and scalars', async () => {
    const a = randomArr([4, 6], seedFor('map-a'));
    const b = randomArr([6], seedFor('map-b'));
    const y = T.map('a * b + T(c)', [upload(a), upload(b), 3]);
    const want = refElementwise('add', [refElementwise('mul', [a, b]), 3]);
    expectClose(await download(y), want, {}, 'map');
  });
});
