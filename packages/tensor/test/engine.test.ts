// The engine: WGSL compile errors with the source line, batched submits, deferred buffer
// release, the pipeline cache, output poisoning and deviceInfo().
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/node.js';

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(false);
});

describe('WGSL compile errors', () => {
  it('a broken kernel makes the next read reject with the line and the offending source', async () => {
    await T.sync();
    const source = `${T.uniformPreamble()}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  y[i] = x[i] * undefinedFactor;
}`;
    const line = source.split('\n').findIndex((l) => l.includes('undefinedFactor')) + 1;
    const broken = T.defineKernel({ name: 'broken_scale', inputs: 1, outputs: 1, source: () => source });
    const x = T.ones([8]);
    const y = T.empty([8]);
    T.runKernel(broken, {}, { inputs: [x], outputs: [y], workgroups: [1] });
    const err = await y.data().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(T.WgslCompileError);
    const e = err as InstanceType<typeof T.WgslCompileError>;
    expect(e.kernel).toBe('broken_scale');
    expect(e.message).toContain(`line ${line}`);
    expect(e.message).toContain('y[i] = x[i] * undefinedFactor;');
    // A status line names the kernel and the first problem, without the source.
    const summary = T.errorSummary(e);
    expect(summary).toMatch(
      new RegExp(`^WGSL compile error in kernel 'broken_scale', line ${line}:\\d+: .*undefinedFactor`),
    );
    expect(summary).not.toContain('\n');
    // The engine keeps working afterwards.
    expect(Array.from(await T.add(T.ones([3]), 1).data())).toEqual([2, 2, 2]);
  });
});

describe('batching', () => {
  it('records dispatches without submitting until a read or the bound (256)', async () => {
    const c = T.getEngine().counters;
    await T.sync();
    const start = { ...c };
    let t = T.zeros([16]);
    for (let i = 0; i < 299; i++) t = T.add(t, 1);
    expect(c.dispatches - start.dispatches).toBe(300);
    expect(c.submits - start.submits).toBe(1);
    expect(c.reads - start.reads).toBe(0);
    expect(Array.from(await t.data())).toEqual(new Array(16).fill(299));
    expect(c.submits - start.submits).toBe(2);
    expect(c.reads - start.reads).toBe(1);
  });

  it('caches pipelines by template and options, not by size', async () => {
    const c = T.getEngine().counters;
    const run = (n: number) => T.add(T.ones([n, 3]), T.ones([3]));
    await run(5).data();
    const compiled = c.pipelinesCompiled;
    for (const n of [17, 2, 1001]) await run(n).data();
    // Same tile class (M < 32, N > 32) and the scalar variant (K % 4 != 0): one pipeline.
    for (const [m, k, n] of [
      [5, 7, 40],
      [9, 17, 33],
    ])
      await T.matmul(T.ones([m, k]), T.ones([k, n])).data();
    const afterFirstMatmul = c.pipelinesCompiled;
    await T.matmul(T.ones([3, 11]), T.ones([11, 130])).data();
    expect(afterFirstMatmul - compiled).toBe(1);
    expect(c.pipelinesCompiled).toBe(afterFirstMatmul);
  });
});

describe('deferred release', () => {
  it('a buffer released while an unsubmitted dispatch reads it is not reused before the submit', async () => {
    await T.sync();
    const first = Float32Array.from({ length: 1024 }, (_, i) => i + 0.5);
    const a = T.tensor(first);
    const doubled = T.mul(a, 2); // recorded, not submitted
    const aBuffer = a.buffer;
    a.dispose();
    expect(T.memory().pendingBytes).toBeGreaterThanOrEqual(4096);
    // Same size bucket: were a's buffer handed out, this upload would land before the mul runs.
    const b = T.tensor(new Float32Array(1024).fill(-7));
    expect(b.buffer).not.toBe(aBuffer);
    expect(Array.from(await doubled.data())).toEqual(Array.from(first, (v) => 2 * v));
    expect(Array.from(await b.data())).toEqual(new Array(1024).fill(-7));
    // After the submit the buffer is back in the pool and reused.
    expect(T.memory().pendingBytes).toBe(0);
    const c = T.tensor(new Float32Array(1024));
    expect(c.buffer).toBe(aBuffer);
  });
});

describe('pending releases', () => {
  it('submits when released buffers waiting for the submit pass maxPendingBytes, so they are reused', async () => {
    const engine = T.getEngine();
    await T.sync();
    const saved = engine.maxPendingBytes;
    engine.maxPendingBytes = 64 * 1024;
    try {
      const x = T.rand([4096], { seed: 3 });
      const created = T.memory().buffersCreated;
      const submits = engine.counters.submits;
      let last = T.zeros([4096]);
      for (let i = 0; i < 40; i++) {
        const y = T.add(x, i); // 16 KiB each, released at once but still used by the next add
        last.dispose();
        last = T.add(y, 0.5);
        y.dispose();
      }
      // 80 outputs of 16 KiB: without the bound every one would be a new buffer.
      expect(T.memory().buffersCreated - created).toBeLessThan(16);
      expect(engine.counters.submits - submits).toBeGreaterThanOrEqual(8);
      const [xs, ls] = [await x.data(), await last.data()];
      ls.forEach((v, i) => expect(v).toBeCloseTo(xs[i]! + 39.5, 4));
      x.dispose();
      last.dispose();
    } finally {
      engine.maxPendingBytes = saved;
    }
  });
});

describe('testing aids and device facts', () => {
  it('poisoned outputs read as NaN (f32) or a sentinel (i32) until written', async () => {
    T.setPoisonOutputs(true);
    try {
      expect(Array.from(await T.empty([5]).data()).every(Number.isNaN)).toBe(true);
      expect(Array.from(await T.empty([3], 'i32').data())).toEqual([-123456789, -123456789, -123456789]);
    } finally {
      T.setPoisonOutputs(false);
    }
  });

  it('deviceInfo() describes the adapter, the kernel family and the limits', () => {
    const info = T.deviceInfo();
    expect(typeof info.vendor).toBe('string');
    expect(info.description.length + info.device.length).toBeGreaterThan(0);
    expect(info.backend.length).toBeGreaterThan(0);
    expect(['cpu', 'gpu']).toContain(info.kernels);
    expect(typeof info.isFallbackAdapter).toBe('boolean');
    expect(info.limits.maxComputeWorkgroupsPerDimension).toBeGreaterThanOrEqual(65535);
    expect(info.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 << 20);
    expect(info.limits.maxStorageBuffersPerShaderStage).toBeGreaterThanOrEqual(8);
    expect(info.limits.maxBufferSize).toBeGreaterThanOrEqual(info.limits.maxStorageBufferBindingSize);
    expect(info.limits.maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
    expect(info.limits.maxComputeWorkgroupStorageSize).toBeGreaterThanOrEqual(16384);
    // Software adapters get the register-blocked kernels.
    if (/llvmpipe|lavapipe|swiftshader/i.test(`${info.device} ${info.description}`)) expect(info.kernels).toBe('cpu');
  });

  it('refuses to swap the GPU provider while a device is held', () => {
    expect(() => T.setGpuProvider(() => ({ gpu: {} as GPU, backend: 'x' }))).toThrow(T.TensorError);
  });
});

describe('in-place writes', () => {
  it('assign copies after earlier reads of the old value; writeData is ordered after recorded work', async () => {
    const dst = T.tensor([1, 2, 3]);
    const before = T.mul(dst, 10); // recorded, not yet submitted
    T.writeData(dst, Float32Array.from([4, 5, 6]));
    const after = T.mul(dst, 10);
    T.assign(dst, T.tensor([7, 8, 9]));
    expect(Array.from(await before.data())).toEqual([10, 20, 30]);
    expect(Array.from(await after.data())).toEqual([40, 50, 60]);
    expect(Array.from(await dst.data())).toEqual([7, 8, 9]);
    expect(() => T.assign(dst, T.tensor([1, 2]))).toThrow(/does not fit/);
    expect(() => T.writeData(dst, Float32Array.from([1]))).toThrow(/1 values/);
  });
});
