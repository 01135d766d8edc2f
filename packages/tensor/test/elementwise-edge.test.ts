// Elementwise edge cases: i32 tensors, 0-size and rank-0 tensors, dtype errors, and a grid of
// more than 65,535 workgroups (folded into 2-D by grid1d).
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import * as T from '../src/node.js';
import { refCastToInt, refElementwise } from './reference/elementwise.js';
import { download, expectClose, expectEqual, upload } from './helpers/gpu.js';
import { randomArr, randomInts, seedFor } from './helpers/random.js';

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => T.setPoisonOutputs(false));

describe('i32 tensors', () => {
  it('cast f32 -> i32 truncates toward zero; i32 -> f32 is exact', async () => {
    for (const shape of [[40], [3, 7]]) {
      const x = randomArr(shape, seedFor('cast', shape), { lo: -50, hi: 50 });
      const xi = T.cast(upload(x), 'i32');
      expect(xi.dtype).toBe('i32');
      expectEqual(await download(xi), refCastToInt(x), 'cast to i32');
      const back = T.cast(xi, 'f32');
      expect(back.dtype).toBe('f32');
      expectEqual(await download(back), refCastToInt(x), 'cast back to f32');
    }
  });

  it('arithmetic, unary ops, maximum/minimum, clamp and where keep i32', async () => {
    const a = randomInts([6, 8], seedFor('i32-a'), -1000, 1000);
    const b = randomInts([8], seedFor('i32-b'), -1000, 1000);
    const c = randomInts([5, 1, 3], seedFor('i32-c'), -9, 9);
    const d = randomInts([4, 1], seedFor('i32-d'), -9, 9);
    for (const name of ['add', 'sub', 'mul', 'maximum', 'minimum'] as const) {
      for (const [x, y] of [
        [a, b],
        [c, d],
      ] as const) {
        const out = (T[name] as (p: T.Tensor, q: T.Tensor) => T.Tensor)(upload(x, 'i32'), upload(y, 'i32'));
        expect(out.dtype).toBe('i32');
        expectEqual(await download(out), refElementwise(name, [x, y]), `i32 ${name}`);
      }
      const s = (T[name] as (p: T.Tensor, q: number) => T.Tensor)(upload(c, 'i32'), 3);
      expectEqual(await download(s), refElementwise(name, [c, 3]), `i32 ${name} scalar`);
    }
    for (const name of ['neg', 'abs', 'relu', 'square', 'sign'] as const) {
      for (const x of [a, c]) {
        const out = T[name](upload(x, 'i32'));
        expect(out.dtype).toBe('i32');
        expectEqual(await download(out), refElementwise(name, [x]), `i32 ${name}`);
      }
    }
    const cl = T.clamp(upload(a, 'i32'), -300, 200);
    expectEqual(await download(cl), refElementwise('clamp', [a, -300, 200]), 'i32 clamp');
    const mask = randomInts([6, 1], seedFor('i32-mask'), 0, 1);
    const w = T.where(upload(mask), upload(a, 'i32'), upload(b, 'i32'));
    expect(w.dtype).toBe('i32');
    expectEqual(await download(w), refElementwise('where', [mask, a, b]), 'i32 where');
  });

  it('comparisons of i32 tensors give f32 masks', async () => {
    const a = randomInts([5, 8], seedFor('icmp-a'), -3, 3);
    const b = randomInts([8], seedFor('icmp-b'), -3, 3);
    for (const name of ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const) {
      const out = T[name](upload(a, 'i32'), upload(b, 'i32'));
      expect(out.dtype).toBe('f32');
      expectEqual(await download(out), refElementwise(name, [a, b]), `i32 ${name}`);
    }
  });

  it('rejects float-only ops on i32 and mixed dtypes with a TensorError', () => {
    const xi = T.tensor(Int32Array.from([1, 2, 3]));
    const xf = T.tensor([1, 2, 3]);
    expect(() => T.exp(xi)).toThrow(T.TensorError);
    expect(() => T.div(xi, xi)).toThrow(/cast/);
    expect(() => T.add(xf, xi)).toThrow(T.TensorError);
  });

  it('names mixed dtypes in the order of the operands', () => {
    const xi = T.tensor(Int32Array.from([1, 2, 3]));
    const xf = T.tensor([1, 2, 3]);
    expect(() => T.add(xi, xf)).toThrow('add: operands have dtypes i32 and f32');
    expect(() => T.mul(xf, xi)).toThrow('mul: operands have dtypes f32 and i32');
    expect(() => T.where(xi, xf, xi)).toThrow('where: operands have dtypes f32 and i32');
  });
});

describe('0-size and rank-0 tensors', () => {
  it('ops on 0-size tensors give 0-size results', async () => {
    const e = T.zeros([0, 3]);
    const y = T.add(T.exp(e), T.ones([3]));
    expect(y.shape).toEqual([0, 3]);
    expect((await y.data()).length).toBe(0);
    const z = T.mul(T.empty([2, 0, 4]), 2);
    expect(z.shape).toEqual([2, 0, 4]);
    expect((await z.data()).length).toBe(0);
  });

  it('rank-0 tensors broadcast and read back as one value', async () => {
    const s = T.tensor(2.5);
    expect(s.shape).toEqual([]);
    expect(await T.mul(s, T.tensor(-4)).item()).toBe(-10);
    const v = randomArr([2, 3], seedFor('rank0'));
    expectClose(await download(T.sub(s, upload(v))), refElementwise('sub', [2.5, v]), {}, 'rank0 - [2,3]');
    await expect(T.tensor([1, 2]).item()).rejects.toThrow(T.TensorError);
  });
});

describe('large grids', () => {
  it('an elementwise op over more than 65,535 * 64 elements folds its grid into 2-D', async () => {
    // Odd size: no vec4, one invocation per element, 67,188 workgroups.
    const n = 4_300_001;
    expect(T.grid1d(n, 64)[1]).toBeGreaterThan(1);
    const x = T.arange(n);
    const y = T.sub(T.mul(x, 2), 1);
    const got = await y.data();
    let bad = -1;
    for (let i = 0; i < n; i++)
      if (got[i] !== 2 * i - 1) {
        bad = i;
        break;
      }
    expect(bad, `first wrong element at ${bad}: ${got[bad]}`).toBe(-1);
    // The strided path as well: a broadcast over the same count.
    const col = T.reshape(T.arange(4), [4, 1]);
    const big = T.add(col, T.zeros([1, 1_075_001]));
    const gb = await big.data();
    expect([gb[0], gb[1_075_001], gb[2 * 1_075_001 + 17], gb[4 * 1_075_001 - 1]]).toEqual([0, 1, 2, 3]);
    expect(gb.some((v) => Number.isNaN(v))).toBe(false);
  });
});

describe('strided vec4 and reciprocal index decoding', () => {
  it('broadcast along outer dims with a contiguous inner dim of 4k (vec4 strided path)', async () => {
    const a = Float32Array.from({ length: 3 * 8 }, (_, i) => Math.sin(i + 1));
    const b = Float32Array.from({ length: 5 * 8 }, (_, i) => Math.cos(i + 2));
    const got = await T.sub(T.tensor(a, [3, 1, 8]), T.tensor(b, [1, 5, 8])).data();
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 5; j++)
        for (let k = 0; k < 8; k++) expect(got[(i * 5 + j) * 8 + k]).toBeCloseTo(a[i * 8 + k]! - b[j * 8 + k]!, 6);
  });

  it('permute and concat through many dims decode indices exactly', async () => {
    const shape = [7, 13, 17, 19];
    const x = Float32Array.from({ length: 7 * 13 * 17 * 19 }, (_, i) => i);
    const got = await T.permute(T.tensor(x, shape), [3, 1, 0, 2]).data();
    let bad = 0;
    for (let d3 = 0; d3 < 19; d3++)
      for (let d1 = 0; d1 < 13; d1++)
        for (let d0 = 0; d0 < 7; d0++)
          for (let d2 = 0; d2 < 17; d2++) {
            const o = ((d3 * 13 + d1) * 7 + d0) * 17 + d2;
            if (got[o] !== ((d0 * 13 + d1) * 17 + d2) * 19 + d3) bad++;
          }
    expect(bad).toBe(0);
    const c = await T.concat([T.ones([2, 4, 8]), T.zeros([2, 4, 4])], 2).data();
    expect(Array.from(c.slice(0, 12))).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
  });
});
