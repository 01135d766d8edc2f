// Recording dispatches: bind groups cached by layout and bound resources (the uniform ring at a
// dynamic offset per dispatch), forgotten when the pool destroys a buffer; and the bound on
// released bytes waiting for a submit relative to the live ones.
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/node.js';

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(false);
});

// y[i] += a * x[i], a from the uniforms: the same buffers with different uniforms.
const axpy = T.defineKernel({
  name: 'test_axpy_in_place',
  inputs: 1,
  outputs: 1,
  source: () => `${T.uniformPreamble()}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= pu(0u)) { return; }
  y[i] = y[i] + pf(1u) * x[i];
}`,
});
const runAxpy = (x: T.Tensor, y: T.Tensor, a: number) =>
  T.runKernel(
    axpy,
    {},
    { inputs: [x], outputs: [y], uniforms: new T.Uniforms().u32(x.size).f32(a), workgroups: T.grid1d(x.size, 64) },
  );

describe('bind group cache', () => {
  it('one bind group serves dispatches over the same buffers, each reading its own uniforms', async () => {
    const c = T.getEngine().counters;
    const x = T.tensor(Float32Array.from({ length: 100 }, (_, i) => i - 50));
    const y = T.zeros([100]);
    await T.sync();
    const [created, hits] = [c.bindGroupsCreated, c.bindGroupHits];
    for (const a of [1, 2, 4]) runAxpy(x, y, a); // one submit: three ring slots
    expect(c.bindGroupsCreated - created).toBe(1);
    expect(c.bindGroupHits - hits).toBe(2);
    expect(Array.from(await y.data())).toEqual(Array.from(await x.data(), (v) => 7 * v));
    x.dispose();
    y.dispose();
  });

  it('a pool buffer recycled for another tensor binds that tensor: the cached group gives its values', async () => {
    const c = T.getEngine().counters;
    const n = 12_345; // a bucket no other test uses
    const first = T.tensor(Float32Array.from({ length: n }, (_, i) => i % 7));
    let y = T.zeros([n]);
    runAxpy(first, y, 1);
    expect((await y.data())[13]).toBe(13 % 7);
    const [xBuffer, yBuffer] = [first.buffer, y.buffer];
    first.dispose();
    y.dispose();
    await T.sync();
    const created = c.bindGroupsCreated;
    const second = T.tensor(Float32Array.from({ length: n }, (_, i) => -i));
    y = T.zeros([n]);
    expect([second.buffer, y.buffer]).toEqual([xBuffer, yBuffer]);
    runAxpy(second, y, 3);
    expect(c.bindGroupsCreated).toBe(created); // the cached group
    const out = await y.data();
    expect([out[1], out[2], out[n - 1]]).toEqual([-3, -6, -3 * (n - 1)]);
    second.dispose();
    y.dispose();
  });

  it('forgets the groups that bind a buffer the pool destroys, and later dispatches still run', async () => {
    const engine = T.getEngine();
    const x = T.ones([4096]);
    const y = T.zeros([4096]);
    runAxpy(x, y, 2);
    await T.sync();
    const held = engine.cachedBindGroups;
    x.dispose();
    y.dispose();
    await T.sync();
    engine.storagePool.trim(); // destroys every pooled buffer, x's and y's among them
    expect(engine.cachedBindGroups).toBeLessThan(held);
    const x2 = T.full([4096], 3);
    const y2 = T.zeros([4096]);
    runAxpy(x2, y2, 2);
    expect(new Set(await y2.data())).toEqual(new Set([6]));
    x2.dispose();
    y2.dispose();
  });

  it('a repeated training step creates no bind groups after its second run and gives the same values', async () => {
    const c = T.getEngine().counters;
    const w = T.randn([48, 40], { seed: 5 }).keep();
    w.requiresGrad = true;
    const x = T.randn([16, 48], { seed: 6 }).keep();
    const step = async () => {
      const loss = T.scope(() => T.mean(T.square(T.relu(T.matmul(x, w)))));
      loss.backward();
      const g = await w.grad!.data();
      w.grad!.dispose();
      w.grad = null;
      loss.dispose();
      return g;
    };
    const first = await step();
    await step();
    const created = c.bindGroupsCreated;
    const hits = c.bindGroupHits;
    const third = await step();
    expect(c.bindGroupsCreated).toBe(created);
    expect(c.bindGroupHits).toBeGreaterThan(hits);
    expect(Array.from(third)).toEqual(Array.from(first));
    w.dispose();
    x.dispose();
  });
});

describe('released bytes waiting for a submit', () => {
  it('stay within the live bytes when the loss is never read, so the pool stays near the working set', async () => {
    const engine = T.getEngine();
    await T.sync();
    engine.storagePool.trim();
    const w = T.randn([512, 1024], { seed: 7 }).keep(); // 2 MiB
    w.requiresGrad = true;
    const x = T.randn([64, 512], { seed: 8 }).keep();
    T.resetPeakMemory();
    const losses: T.Tensor[] = [];
    let held = 0;
    for (let i = 0; i < 40; i++) {
      // A step of a few dozen dispatches that releases ~7 MiB of temporaries; nothing is read.
      const loss = T.scope(() => T.mean(T.square(T.relu(T.matmul(x, w)))));
      loss.backward();
      T.noGrad(() => T.scope(() => T.assign(w, T.sub(w, T.mul(w.grad!, 0.01)))));
      w.grad!.dispose();
      w.grad = null;
      losses.push(loss);
      const m = T.memory();
      held = Math.max(held, m.liveBytes + m.pooledBytes + m.pendingBytes);
    }
    const peak = T.memory().peakLiveBytes;
    const values = await Promise.all(losses.map((l) => l.item()));
    expect(values.every(Number.isFinite)).toBe(true);
    // Bytes, not time: everything the pool holds against the most that was live at once.
    expect(held).toBeLessThan(4 * peak);
    for (const l of losses) l.dispose();
    w.dispose();
    x.dispose();
  });
});
