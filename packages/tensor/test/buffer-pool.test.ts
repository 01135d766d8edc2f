// The buffer pool (buffer-pool.ts) on a private pool over the real device: buckets, the byte cap
// evicting the buffers pooled longest ago (not the one just released), and the cap that grows
// with the highest live bytes where asked. A step that frees and re-acquires the same sizes
// must then create no buffers.
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/node.js';
import { BufferPool, bucketSize } from '../src/buffer-pool.js';
import { BufferUsage } from '../src/gpu-constants.js';

let device: GPUDevice;
beforeAll(async () => {
  await T.ready();
  device = T.getEngine().device;
});

const MiB = 2 ** 20;
const pool = (cap: number, grow = false) => new BufferPool(device, BufferUsage.STORAGE, 'test', cap, grow);

describe('BufferPool', () => {
  it('reuses a released buffer of the same bucket', () => {
    const p = pool(64 * MiB);
    const a = p.acquire(1000);
    p.release(a, false);
    expect(p.acquire(bucketSize(1000) - 1)).toBe(a);
    expect(p.snapshot().buffersCreated).toBe(1);
    p.trim();
  });

  it('hands out the oldest free buffer of a bucket, so a repeated step gets the same buffers whatever order they came back in', () => {
    const p = pool(64 * MiB);
    const step = (releaseOrder: number[]) => {
      const xs = [p.acquire(MiB), p.acquire(MiB), p.acquire(MiB)];
      for (const i of releaseOrder) p.release(xs[i]!, false);
      return xs;
    };
    const first = step([0, 1, 2]);
    expect(step([2, 0, 1])).toEqual(first);
    expect(step([1, 2, 0])).toEqual(first);
    expect(p.snapshot().buffersCreated).toBe(3);
    p.trim();
  });

  it('tells onDestroy about every buffer it destroys', () => {
    const p = pool(MiB);
    const destroyed: GPUBuffer[] = [];
    p.onDestroy = (b) => destroyed.push(b);
    const [a, b, c] = [p.acquire(MiB), p.acquire(MiB), p.acquire(2 * MiB)];
    p.release(a, false);
    p.release(b, false); // over the cap: a goes
    p.release(c, false); // larger than the cap: destroyed at once
    expect(destroyed).toEqual([a, c]);
    p.trim();
    expect(destroyed).toEqual([a, c, b]);
  });

  it('over the cap destroys the buffers pooled longest ago, keeping the one just released', () => {
    const p = pool(3 * MiB);
    const [a, b, c, d] = [p.acquire(MiB), p.acquire(MiB), p.acquire(MiB), p.acquire(MiB)];
    for (const x of [a, b, c]) p.release(x, false);
    expect(p.snapshot().pooledBytes).toBe(3 * MiB);
    p.release(d, false); // a, pooled first, goes
    expect(p.snapshot().pooledBytes).toBe(3 * MiB);
    const again = [p.acquire(MiB), p.acquire(MiB), p.acquire(MiB)];
    expect(new Set(again)).toEqual(new Set([b, c, d]));
    expect(p.snapshot().buffersCreated).toBe(4);
    for (const x of again) p.release(x, false);
    p.trim();
  });

  it('a new size no longer starves: sizes that stopped coming back are evicted for it', () => {
    const p = pool(4 * MiB);
    // An old phase fills the pool with 1 MiB buffers.
    const old = Array.from({ length: 4 }, () => p.acquire(MiB));
    for (const x of old) p.release(x, false);
    // Steps that use 1.5 MiB buffers: after the first, nothing new is created.
    const step = () => {
      const xs = [p.acquire(1.5 * MiB), p.acquire(1.5 * MiB)];
      for (const x of xs) p.release(x, false);
    };
    step();
    const created = p.snapshot().buffersCreated;
    for (let i = 0; i < 5; i++) step();
    expect(p.snapshot().buffersCreated).toBe(created);
    p.trim();
  });

  it('with growth, the cap follows 2.5 times the highest live bytes, so a step larger than the cap recycles everything', () => {
    const run = (grow: boolean) => {
      const p = pool(2 * MiB, grow);
      // Forward: 4 activations live at once (4 MiB); backward frees them and takes 4 gradients
      // of other sizes; the next forward wants the activations' sizes again.
      const step = () => {
        const acts = Array.from({ length: 4 }, () => p.acquire(MiB));
        const grads = acts.map(() => p.acquire(1.25 * MiB));
        for (const x of [...acts, ...grads]) p.release(x, false);
      };
      step();
      const first = p.snapshot().buffersCreated;
      for (let i = 0; i < 3; i++) step();
      const more = p.snapshot().buffersCreated - first;
      const cap = p.effectiveCapBytes;
      p.trim();
      return { more, cap };
    };
    expect(run(true)).toEqual({ more: 0, cap: 2.5 * 9 * MiB });
    expect(run(false).more).toBeGreaterThan(0);
    expect(run(false).cap).toBe(2 * MiB);
  });
});
