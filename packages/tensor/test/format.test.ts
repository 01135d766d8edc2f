// Printing tensors: the short inspect form (no readback; values only when already on the host)
// and the awaited PyTorch-style layout of T.format / t.print.
import { inspect } from 'node:util';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as T from '../src/node.js';

beforeAll(async () => {
  await T.ready();
});

// Each expected string is PyTorch 1.13's str() of the same values (float32, or int64 for the
// integer cases), printed by /usr/bin/python3 with `import torch; print(json.dumps(str(t)))`,
// e.g. str(torch.tensor([i / 7 for i in range(2000)], dtype=torch.float32).reshape(40, 50)).
const PYTORCH: [string, () => T.Tensor, string][] = [
  [
    'int-valued 2x3',
    () =>
      T.tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]),
    'tensor([[1., 2., 3.],\n        [4., 5., 6.]])',
  ],
  [
    'fixed, ties to even, negative zero',
    () =>
      T.tensor([
        [1.5, -2.25],
        [0.03125, -0],
      ]),
    'tensor([[ 1.5000, -2.2500],\n        [ 0.0312, -0.0000]])',
  ],
  ['scientific', () => T.tensor([1e-5, 1, 123456]), 'tensor([1.0000e-05, 1.0000e+00, 1.2346e+05])'],
  [
    'wrapped at 80 columns',
    () => T.tensor(Array.from({ length: 30 }, (_, i) => i * 1.5)),
    'tensor([ 0.0000,  1.5000,  3.0000,  4.5000,  6.0000,  7.5000,  9.0000, 10.5000,\n        12.0000, 13.5000, 15.0000, 16.5000, 18.0000, 19.5000, 21.0000, 22.5000,\n        24.0000, 25.5000, 27.0000, 28.5000, 30.0000, 31.5000, 33.0000, 34.5000,\n        36.0000, 37.5000, 39.0000, 40.5000, 42.0000, 43.5000])',
  ],
  [
    'summarised 40x50',
    () => T.reshape(T.tensor(Float32Array.from({ length: 2000 }, (_, i) => i / 7)), [40, 50]),
    'tensor([[0.0000e+00, 1.4286e-01, 2.8571e-01,  ..., 6.7143e+00, 6.8571e+00,\n         7.0000e+00],\n        [7.1429e+00, 7.2857e+00, 7.4286e+00,  ..., 1.3857e+01, 1.4000e+01,\n         1.4143e+01],\n        [1.4286e+01, 1.4429e+01, 1.4571e+01,  ..., 2.1000e+01, 2.1143e+01,\n         2.1286e+01],\n        ...,\n        [2.6429e+02, 2.6443e+02, 2.6457e+02,  ..., 2.7100e+02, 2.7114e+02,\n         2.7129e+02],\n        [2.7143e+02, 2.7157e+02, 2.7171e+02,  ..., 2.7814e+02, 2.7829e+02,\n         2.7843e+02],\n        [2.7857e+02, 2.7871e+02, 2.7886e+02,  ..., 2.8529e+02, 2.8543e+02,\n         2.8557e+02]])',
  ],
  ['scalar', () => T.tensor(2.5), 'tensor(2.5000)'],
  ['nan and inf', () => T.tensor([NaN, 1, -Infinity]), 'tensor([nan, 1., -inf])'],
  [
    '3-D',
    () => T.reshape(T.arange(0, 24), [2, 3, 4]),
    'tensor([[[ 0.,  1.,  2.,  3.],\n         [ 4.,  5.,  6.,  7.],\n         [ 8.,  9., 10., 11.]],\n\n        [[12., 13., 14., 15.],\n         [16., 17., 18., 19.],\n         [20., 21., 22., 23.]]])',
  ],
  ['integer-valued, scientific', () => T.tensor([1, 2e9]), 'tensor([1.0000e+00, 2.0000e+09])'],
  ['integers', () => T.tensor([[1, -20, 300]], undefined, 'i32'), 'tensor([[  1, -20, 300]])'],
  [
    'summarised integers, 3-D',
    () => T.reshape(T.arange(0, 3000, 1, 'i32'), [10, 10, 30]),
    'tensor([[[   0,    1,    2,  ...,   27,   28,   29],\n         [  30,   31,   32,  ...,   57,   58,   59],\n         [  60,   61,   62,  ...,   87,   88,   89],\n         ...,\n         [ 210,  211,  212,  ...,  237,  238,  239],\n         [ 240,  241,  242,  ...,  267,  268,  269],\n         [ 270,  271,  272,  ...,  297,  298,  299]],\n\n        [[ 300,  301,  302,  ...,  327,  328,  329],\n         [ 330,  331,  332,  ...,  357,  358,  359],\n         [ 360,  361,  362,  ...,  387,  388,  389],\n         ...,\n         [ 510,  511,  512,  ...,  537,  538,  539],\n         [ 540,  541,  542,  ...,  567,  568,  569],\n         [ 570,  571,  572,  ...,  597,  598,  599]],\n\n        [[ 600,  601,  602,  ...,  627,  628,  629],\n         [ 630,  631,  632,  ...,  657,  658,  659],\n         [ 660,  661,  662,  ...,  687,  688,  689],\n         ...,\n         [ 810,  811,  812,  ...,  837,  838,  839],\n         [ 840,  841,  842,  ...,  867,  868,  869],\n         [ 870,  871,  872,  ...,  897,  898,  899]],\n\n        ...,\n\n        [[2100, 2101, 2102,  ..., 2127, 2128, 2129],\n         [2130, 2131, 2132,  ..., 2157, 2158, 2159],\n         [2160, 2161, 2162,  ..., 2187, 2188, 2189],\n         ...,\n         [2310, 2311, 2312,  ..., 2337, 2338, 2339],\n         [2340, 2341, 2342,  ..., 2367, 2368, 2369],\n         [2370, 2371, 2372,  ..., 2397, 2398, 2399]],\n\n        [[2400, 2401, 2402,  ..., 2427, 2428, 2429],\n         [2430, 2431, 2432,  ..., 2457, 2458, 2459],\n         [2460, 2461, 2462,  ..., 2487, 2488, 2489],\n         ...,\n         [2610, 2611, 2612,  ..., 2637, 2638, 2639],\n         [2640, 2641, 2642,  ..., 2667, 2668, 2669],\n         [2670, 2671, 2672,  ..., 2697, 2698, 2699]],\n\n        [[2700, 2701, 2702,  ..., 2727, 2728, 2729],\n         [2730, 2731, 2732,  ..., 2757, 2758, 2759],\n         [2760, 2761, 2762,  ..., 2787, 2788, 2789],\n         ...,\n         [2910, 2911, 2912,  ..., 2937, 2938, 2939],\n         [2940, 2941, 2942,  ..., 2967, 2968, 2969],\n         [2970, 2971, 2972,  ..., 2997, 2998, 2999]]])',
  ],
];

describe('T.format lays values out as PyTorch prints them', () => {
  it.each(PYTORCH)('%s', async (_name, make, want) => {
    expect(await T.format(make())).toBe(want);
  });

  it('notes gradients with this library’s names (PyTorch: requires_grad=True, grad_fn=<...>)', async () => {
    const x = T.tensor([1.5, 2]);
    x.requiresGrad = true;
    // str(torch.tensor([1.5, 2.0], requires_grad=True)) with the note renamed.
    expect(await x.format()).toBe('tensor([1.5000, 2.0000], requiresGrad=true)');
    expect(await T.format(T.mul(x, 2))).toBe('tensor([3., 4.], gradFn=<mul>)');
  });

  it('shows the size and dtype of empty tensors, which their values cannot', async () => {
    expect(await T.format(T.zeros([0]))).toBe('tensor([])');
    expect(await T.format(T.zeros([0, 3]))).toBe('tensor([], size=[0, 3])');
    expect(await T.format(T.zeros([2, 0], 'i32'))).toBe('tensor([], size=[2, 0], dtype=i32)');
  });

  it('print() logs the same string', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await T.tensor([
        [1, 2],
        [3, 4],
      ]).print();
      expect(log).toHaveBeenCalledWith('tensor([[1., 2.],\n        [3., 4.]])');
    } finally {
      log.mockRestore();
    }
  });
});

const doubleInPlace = T.defineKernel<Record<string, never>>({
  name: 'double_in_place',
  inputs: 0,
  outputs: 1,
  source: () => `${T.uniformPreamble()}
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${T.linearIndex(64)};
  if (i < pu(0u)) { y[i] = y[i] * 2.0; }
}`,
});

describe('the inspect form (console.log, util.inspect, toString)', () => {
  it('is one short line naming dtype, shape and id, with values only when they are on the host', async () => {
    const t = T.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(String(t)).toBe(`Tensor(f32, [2, 3], #${t.id})`);
    // Made from host values: shown without a readback.
    expect(inspect(t)).toBe(
      `Tensor(f32, [2, 3], #${t.id}) [[1., 2., 3.],\n${' '.repeat(String(t).length + 2)}[4., 5., 6.]]`,
    );
    // Computed on the device: not known until read.
    const u = T.add(t, 1);
    expect(inspect(u)).toBe(`Tensor(f32, [2, 3], #${u.id})`);
    expect(u.cachedData()).toBeNull();
    await u.data();
    expect(inspect(u)).toBe(
      `Tensor(f32, [2, 3], #${u.id}) [[2., 3., 4.],\n${' '.repeat(String(u).length + 2)}[5., 6., 7.]]`,
    );
    const i = T.tensor(Int32Array.from([7, -1]));
    expect(inspect(i)).toBe(`Tensor(i32, [2], #${i.id}) [ 7, -1]`);
    i.dispose();
    expect(inspect(i)).toBe(`Tensor(i32, [2], #${i.id}, disposed)`);
  });

  it('drops host values as soon as anything writes the tensor, so it never shows stale ones', async () => {
    const t = T.tensor([1, 2, 3]);
    expect(Array.from(t.cachedData()!)).toEqual([1, 2, 3]);
    T.assign(t, T.tensor([4, 5, 6]));
    expect(t.cachedData()).toBeNull();
    await t.data();
    expect(Array.from(t.cachedData()!)).toEqual([4, 5, 6]);
    T.writeData(t, Float32Array.from([7, 8, 9]));
    expect(Array.from(t.cachedData()!)).toEqual([7, 8, 9]);
    // A kernel writing into an existing tensor (what optimizers do to parameters).
    T.runKernel(
      doubleInPlace,
      {},
      { inputs: [], outputs: [t], uniforms: new T.Uniforms().u32(t.size), workgroups: T.grid1d(t.size, 64) },
    );
    expect(t.cachedData()).toBeNull();
    expect(Array.from(await t.data())).toEqual([14, 16, 18]);
    // A host copy is a copy: changing it, or the array a tensor was made from, changes nothing.
    const src = Float32Array.from([1, 1]);
    const s = T.tensor(src);
    src[0] = 5;
    s.cachedData()![1] = 5;
    expect(Array.from(s.cachedData()!)).toEqual([1, 1]);
  });

  it('a write recorded while a read is waiting keeps the read from becoming the host copy', async () => {
    const t = T.tensor([1, 2]);
    T.writeData(t, Float32Array.from([3, 4])); // host copy [3, 4]
    T.assign(t, T.tensor([5, 6])); // no host copy
    const reading = t.data();
    T.assign(t, T.tensor([7, 8])); // recorded after the read: the values read are already stale
    expect(Array.from(await reading)).toEqual([5, 6]);
    expect(t.cachedData()).toBeNull();
  });
});
