// Mixed precision: autocast's Linear and Conv2d against float64 references on both kernel
// families, and GradScaler's dynamic loss scaling (PyTorch's defaults and rules).
//
// Tolerances. Given operands rounded to f16 (and the output gradient rounded to f16), a layer
// computes the float64 result of those rounded values up to f32 summation: 1e-5 of the
// largest |value|, as the f32 conv tests. Against the exact result of the unrounded values, each
// product carries at most two f16 roundings (2·2^-11 relative), and a gradient three:
// Σ|terms|·(3·2^-11 + 1%) bounds the difference, with Σ|terms| the same layer applied to |.|.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { autocast, Conv2d, GradScaler, isAutocastEnabled, Linear, SGD } from '../../src/index.js';
import { conv2dGradRef, conv2dRef, type Arr, type ConvRefOptions } from '../ops/conv-pool-reference.js';
import { expectNear, randomArr } from '../helpers/near.js';

beforeAll(async () => {
  await T.ready();
});
afterEach(() => T.setKernelFamily(null));

const hasF16 = () => T.getEngine().device.features.has('shader-f16');
const F16_BOUND = 3 * 2 ** -11 * 1.01;

const map = (a: Arr, f: (v: number) => number): Arr => ({ shape: a.shape, data: a.data.map(f) });
const half = (a: Arr) => map(a, T.roundToF16);
const abs = (a: Arr) => map(a, Math.abs);
const upload = (a: Arr, grad = false) => {
  const t = T.tensor(Float32Array.from(a.data), a.shape);
  if (grad) t.requiresGrad = true;
  return t;
};

/** |got - want| <= bound·scale_i + 1e-6 element by element. */
async function expectWithin(t: T.Tensor, want: Arr, scale: Arr, bound: number, label: string): Promise<void> {
  const got = await t.data();
  expect(t.shape, label).toEqual(want.shape);
  const bad: string[] = [];
  for (let i = 0; i < got.length; i++) {
    const limit = bound * scale.data[i]! + 1e-6;
    if (!(Math.abs(got[i]! - want.data[i]!) <= limit) && bad.length < 3)
      bad.push(`[${i}] got ${got[i]}, want ${want.data[i]} (limit ${limit.toExponential(2)})`);
  }
  expect(bad, label).toEqual([]);
}

function linearRef(x: Arr, w: Arr, b: Arr | null): Arr {
  const [n, k] = x.shape as [number, number];
  const o = w.shape[0]!;
  const y = new Float64Array(n * o);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < o; j++) {
      let s = b ? b.data[j]! : 0;
      for (let q = 0; q < k; q++) s += x.data[i * k + q]! * w.data[j * k + q]!;
      y[i * o + j] = s;
    }
  return { shape: [n, o], data: y };
}

/** dx = r·W, dW = rᵀ·x of y = x·Wᵀ. */
function linearGradRef(x: Arr, w: Arr, r: Arr): { dx: Arr; dw: Arr } {
  const [n, k] = x.shape as [number, number];
  const o = w.shape[0]!;
  const dx = new Float64Array(n * k);
  const dw = new Float64Array(o * k);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < o; j++)
      for (let q = 0; q < k; q++) {
        dx[i * k + q] += r.data[i * o + j]! * w.data[j * k + q]!;
        dw[j * k + q] += r.data[i * o + j]! * x.data[i * k + q]!;
      }
  return { dx: { shape: [n, k], data: dx }, dw: { shape: [o, k], data: dw } };
}

describe('autocast', () => {
  it('is on inside autocast(fn) only, nests, and is restored after a throw', async () => {
    expect(isAutocastEnabled()).toBe(false);
    autocast(() => {
      expect(isAutocastEnabled()).toBe(true);
      autocast(() => expect(isAutocastEnabled()).toBe(false), false);
      expect(isAutocastEnabled()).toBe(true);
    });
    expect(() =>
      autocast(() => {
        throw new Error('inside');
      }),
    ).toThrow('inside');
    expect(isAutocastEnabled()).toBe(false);
    await autocast(async () => {
      await Promise.resolve();
      expect(isAutocastEnabled()).toBe(true);
    });
    expect(isAutocastEnabled()).toBe(false);
  });
});

describe.runIf(hasF16)('autocast layers against float64', () => {
  for (const family of ['cpu', 'gpu'] as const) {
    it(`${family} kernels: Linear (f16 matmul) and its gradients`, async () => {
      T.setKernelFamily(family);
      const layer = new Linear(37, 11);
      const [n, k, o] = [13, 37, 11];
      const x = map(randomArr([n, k], 11), (v) => 4 * v);
      const w = { shape: [o, k], data: Float64Array.from(await layer.param('weight').data()) };
      const b = { shape: [o], data: Float64Array.from(await layer.param('bias').data()) };
      const r = randomArr([n, o], 12);
      const tx = upload(x, true);
      const y = autocast(() => layer.forward(tx));
      T.sum(T.mul(y, upload(r))).backward();
      // Exactly what it computes: the rounded operands (and rounded output gradient) in f32 sums.
      await expectNear(y, linearRef(half(x), half(w), half(b)), 1e-5, `${family} y of rounded`);
      const rounded = linearGradRef(half(x), half(w), half(r));
      await expectNear(tx.grad!, rounded.dx, 1e-5, `${family} dx of rounded`);
      await expectNear(layer.param('weight').grad!, rounded.dw, 1e-5, `${family} dW of rounded`);
      // db: the rounded output gradient summed over the batch.
      const db = new Float64Array(o);
      half(r).data.forEach((v, i) => (db[i % o] += v));
      await expectNear(layer.param('bias').grad!, { shape: [o], data: db }, 1e-5, `${family} db of rounded`);
      // Against the exact values: the f16 bound.
      const exact = linearGradRef(x, w, r);
      const scale = linearGradRef(abs(x), abs(w), abs(r));
      await expectWithin(y, linearRef(x, w, b), linearRef(abs(x), abs(w), abs(b)), F16_BOUND, `${family} y`);
      await expectWithin(tx.grad!, exact.dx, scale.dx, F16_BOUND, `${family} dx`);
      await expectWithin(layer.param('weight').grad!, exact.dw, scale.dw, F16_BOUND, `${family} dW`);
      expect(layer.param('weight').dtype).toBe('f32');
    });

    // On the gpu family the 3x3 convolutions read f16 tensors (conv2dAutocast), the 1x1 rounds.
    it(`${family} kernels: Conv2d (3x3, stride 2 and 1, padding 1; 1x1) and its gradients`, async () => {
      T.setKernelFamily(family);
      for (const [k, stride, padding] of [
        [3, 2, 1],
        [3, 1, 1],
        [1, 1, 0],
      ] as const) {
        const layer = new Conv2d(5, 7, k, { stride, padding, bias: false });
        const o: ConvRefOptions = { stride: [stride, stride], padding: [padding, padding], dilation: [1, 1] };
        const x = map(randomArr([2, 5, 9, 11], 21 + k), (v) => 3 * v);
        const w = { shape: [7, 5, k, k], data: Float64Array.from(await layer.param('weight').data()) };
        const tx = upload(x, true);
        const y = autocast(() => layer.forward(tx));
        const r = randomArr([...y.shape], 22 + k);
        T.sum(T.mul(y, upload(r))).backward();
        const label = `${family} ${k}x${k}`;
        await expectNear(y, conv2dRef(half(x), half(w), null, o), 1e-5, `${label} y of rounded`);
        const rounded = conv2dGradRef(half(x), half(w), half(r), o);
        await expectNear(tx.grad!, rounded.dx, 1e-5, `${label} dx of rounded`);
        await expectNear(layer.param('weight').grad!, rounded.dw, 1e-5, `${label} dW of rounded`);
        const exact = conv2dGradRef(x, w, r, o);
        const scale = conv2dGradRef(abs(x), abs(w), abs(r), o);
        await expectWithin(y, conv2dRef(x, w, null, o), conv2dRef(abs(x), abs(w), null, o), F16_BOUND, `${label} y`);
        await expectWithin(tx.grad!, exact.dx, scale.dx, F16_BOUND, `${label} dx`);
        await expectWithin(layer.param('weight').grad!, exact.dw, scale.dw, F16_BOUND, `${label} dW`);
      }
    });
  }

  it('outside autocast the layers stay f32 (the same values as before)', async () => {
    const layer = new Linear(9, 3);
    const x = randomArr([4, 9], 31);
    const y = layer.forward(upload(x));
    const w = { shape: [3, 9], data: Float64Array.from(await layer.param('weight').data()) };
    const b = { shape: [3], data: Float64Array.from(await layer.param('bias').data()) };
    // An f16 operand would be off by up to 2^-11 relative: f32 is 100x closer.
    await expectNear(y, linearRef(x, w, b), 1e-6, 'y');
  });
});

describe('GradScaler', () => {
  /** One parameter p with loss = sum(p * c): its gradient is c. */
  function setup(c: number[]) {
    const p = T.tensor([1, 2, 3, 4]).keep();
    p.requiresGrad = true;
    const opt = new SGD([p], { lr: 0.5 });
    const lossOf = () => T.sum(T.mul(p, T.tensor(c)));
    return { p, opt, lossOf };
  }

  it("PyTorch's defaults: scale 65536, growth 2 every 2000 steps, backoff 0.5", () => {
    expect(new GradScaler().stateDict()).toEqual({
      scale: 65536,
      growth_factor: 2,
      backoff_factor: 0.5,
      growth_interval: 2000,
      _growth_tracker: 0,
    });
  });

  it('a finite step updates exactly as the unscaled one would', async () => {
    const scaled = setup([0.1, -3, 1e-6, 7]);
    const plain = setup([0.1, -3, 1e-6, 7]);
    const scaler = new GradScaler();
    scaler.scale(scaled.lossOf()).backward();
    expect(Array.from(await scaled.p.grad!.data())[1]).toBe(-3 * 65536);
    expect(await scaler.step(scaled.opt)).toBe(true);
    scaler.update();
    plain.lossOf().backward();
    plain.opt.step();
    expect(Array.from(await scaled.p.data())).toEqual(Array.from(await plain.p.data()));
    expect(scaler.lastStepSkipped).toBe(false);
  });

  it('an infinite or NaN gradient skips the step and halves the scale; 3 finite steps in a row double it', async () => {
    const { p, opt } = setup([1, 1, 1, 1]);
    const scaler = new GradScaler({ growthInterval: 3 });
    const stepWith = async (grad: number[]) => {
      p.grad?.dispose();
      p.grad = T.tensor(grad.map((g) => g * scaler.getScale())).keep();
      const stepped = await scaler.step(opt);
      scaler.update();
      return stepped;
    };
    const before = Array.from(await p.data());
    expect(await stepWith([1, Infinity, 0, 0])).toBe(false);
    expect(Array.from(await p.data())).toEqual(before);
    expect(scaler.getScale()).toBe(32768);
    expect(scaler.lastStepSkipped).toBe(true);
    expect(await stepWith([NaN, 0, 0, 0])).toBe(false);
    expect(scaler.getScale()).toBe(16384);
    expect(await stepWith([1, 0, 0, 0])).toBe(true);
    expect(await stepWith([1, 0, 0, 0])).toBe(true);
    expect(scaler.getScale()).toBe(16384);
    // An overflow in the middle starts the count again.
    expect(await stepWith([-Infinity, 0, 0, 0])).toBe(false);
    expect(scaler.getScale()).toBe(8192);
    for (let i = 0; i < 3; i++) expect(await stepWith([0, 1, 0, 0])).toBe(true);
    expect(scaler.getScale()).toBe(16384);
    expect(scaler.stateDict()._growth_tracker).toBe(0);
    // Five steps of lr 0.5 with unscaled gradient 1 on the first or second element.
    expect(Array.from(await p.data())).toEqual([1 - 1, 2 - 1.5, 3, 4]);
  });

  it('unscales many gradients in few dispatches, each exactly once, shared storage included', async () => {
    // 40 parameters of odd sizes; a and b get one gradient tensor between them (y = a + b).
    const params = Array.from({ length: 40 }, (_, i) => {
      const p = T.tensor(Float32Array.from({ length: 3 + i }, (_, k) => k - i)).keep();
      p.requiresGrad = true;
      return p;
    });
    const [a, b] = [T.tensor([1, 2, 3]).keep(), T.tensor([4, 5, 6]).keep()];
    a.requiresGrad = true;
    b.requiresGrad = true;
    const opt = new SGD([...params, a, b], { lr: 1 });
    const scaler = new GradScaler({ initScale: 1024 });
    const coef = (n: number, i: number) => Float32Array.from({ length: n }, (_, k) => (k + 1) * 0.25 - i);
    const terms = params.map((p, i) => T.sum(T.mul(p, T.tensor(coef(p.size, i)))));
    const loss = terms.reduce((x, y) => T.add(x, y), T.sum(T.mul(T.add(a, b), T.tensor([0.5, -1, 2]))));
    scaler.scale(loss).backward();
    const before = T.getEngine().counters.dispatches;
    scaler.unscale_(opt);
    T.flush();
    expect(T.getEngine().counters.dispatches - before).toBeLessThan(10);
    for (const [i, p] of params.entries())
      expect(Array.from(await p.grad!.data()), `param ${i}`).toEqual(Array.from(coef(p.size, i)));
    expect(a.grad!.buffer).toBe(b.grad!.buffer);
    expect(Array.from(await a.grad!.data())).toEqual([0.5, -1, 2]);
    expect(Array.from(await b.grad!.data())).toEqual([0.5, -1, 2]);
    expect(await scaler.step(opt)).toBe(true);
    expect(Array.from(await b.data())).toEqual([3.5, 6, 4]);
  });

  it('on the device: the same steps, skips, backoffs and growths, with nothing read back', async () => {
    // The host test's sequence through stepOnDevice, with momentum (a skipped step leaves the
    // buffers too), against the host-stepped scaler on a twin parameter.
    const run = async (device: boolean) => {
      const p = T.tensor([1, 2, 3, 4]).keep();
      p.requiresGrad = true;
      const opt = new SGD([p], { lr: 0.5, momentum: 0.9 });
      const scaler = new GradScaler({ growthInterval: 3 });
      const scales: number[] = [];
      const skipped: boolean[] = [];
      for (const grad of [
        [1, Infinity, 0, 0],
        [NaN, 0, 0, 0],
        [1, 0, 0, 0],
        [1, 0, 0, 0],
        [-Infinity, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 1, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 2, 0],
      ]) {
        p.grad?.dispose();
        p.grad = T.tensor(grad.map((g) => g * scaler.getScale())).keep();
        if (device) {
          scaler.stepOnDevice(opt);
          await scaler.syncFromDevice();
        } else {
          await scaler.step(opt);
          scaler.update();
        }
        scales.push(scaler.getScale());
        skipped.push(scaler.lastStepSkipped!);
      }
      const out = {
        p: Array.from(await p.data()),
        scales,
        skipped,
        count: scaler.skippedSteps,
        state: scaler.stateDict(),
      };
      scaler.dispose();
      opt.dispose();
      return out;
    };
    const host = await run(false);
    expect(host.skipped).toEqual([true, true, false, false, true, false, false, false, false]);
    expect(host.scales).toEqual([32768, 16384, 16384, 16384, 8192, 8192, 8192, 16384, 16384]);
    expect(host.count).toBe(3);
    expect(await run(true)).toEqual(host);
  });

  it('on the device, a scaled backward reads the scale where it lives', async () => {
    const { p, opt, lossOf } = setup([0.1, -3, 1e-6, 7]);
    const scaler = new GradScaler({ initScale: 512 });
    scaler.scaleOnDevice(lossOf()).backward();
    expect(Array.from(await p.grad!.data())[1]).toBe(-3 * 512);
    scaler.stepOnDevice(opt);
    expect(() => scaler.update()).toThrow(/steps on the device/);
    // A restored state reaches the device.
    scaler.loadStateDict({ scale: 64, _growth_tracker: 5 });
    await scaler.syncFromDevice();
    expect(scaler.stateDict()).toMatchObject({ scale: 64, _growth_tracker: 5 });
    scaler.dispose();
  });

  it('an optimizer that would start momentum buffers with a dampening is not skipped on the device', () => {
    const { opt } = setup([1, 1, 1, 1]);
    const damped = new SGD(opt.paramGroups[0]!.params, { lr: 0.1, momentum: 0.9, dampening: 0.5 });
    for (const p of damped.paramGroups[0]!.params) p.grad = T.ones(p.shape).keep();
    expect(() => new GradScaler().stepOnDevice(damped)).toThrow(/cannot start momentum buffers with a dampening/);
  });

  it('a disabled scaler passes the loss through and always steps', async () => {
    const { p, opt, lossOf } = setup([2, 2, 2, 2]);
    const scaler = new GradScaler({ enabled: false });
    scaler.scale(lossOf()).backward();
    expect(await scaler.step(opt)).toBe(true);
    expect(Array.from(await p.data())).toEqual([0, 1, 2, 3]);
    expect(scaler.getScale()).toBe(1);
  });

  it('rejects bad options and out-of-order calls', () => {
    expect(() => new GradScaler({ backoffFactor: 1 })).toThrow(/backoffFactor must be in \(0, 1\)/);
    expect(() => new GradScaler({ growthInterval: 0 })).toThrow(/growthInterval must be a positive integer/);
    expect(() => new GradScaler().update()).toThrow(/no step\(\) since the last update/);
  });
});
