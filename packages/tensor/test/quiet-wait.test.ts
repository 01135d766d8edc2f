// Waiting for the GPU without dawn.node's busy poll (dawn-quiet-wait.ts): the poll is slowed
// only inside a quiet region, only after SPIN_MS, only for dawn's kind of callback (a native
// function queued without arguments), and the real setImmediate comes back afterwards.
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/node.js';
import { quietDepth, quietly, SPIN_MS } from '../src/dawn-quiet-wait.js';

type SI = (cb: (...args: unknown[]) => void, ...args: unknown[]) => unknown;
const g = globalThis as unknown as { setImmediate: SI };

function busyWait(ms: number): void {
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    /* spin */
  }
}

beforeAll(async () => {
  await T.ready();
});

describe('quiet waits', () => {
  it('restores setImmediate after nested regions, also when the body throws', async () => {
    const before = g.setImmediate;
    await quietly(async () => {
      expect(g.setImmediate).not.toBe(before);
      await quietly(async () => expect(quietDepth()).toBe(2));
      expect(quietDepth()).toBe(1);
    });
    expect(g.setImmediate).toBe(before);
    await expect(quietly(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(g.setImmediate).toBe(before);
    expect(quietDepth()).toBe(0);
  });

  it("defers dawn.node's kind of callback after SPIN_MS and passes everything else straight through", async () => {
    const ran: string[] = [];
    // Like dawn.node's poll: prints as native code, no name, no parameters.
    const dawnLike = new Proxy(() => void ran.push('dawn-like'), {});
    const bound = (() => void ran.push('bound')).bind(null); // native code too, but named "bound "
    const js = () => void ran.push('js');
    const withArg = (tag: unknown) => void ran.push(String(tag));
    // The setImmediate that quietly() finds is this spy: what reaches it was not deferred.
    const real = g.setImmediate;
    const immediate: unknown[] = [];
    g.setImmediate = (cb, ...args) => {
      immediate.push(cb);
      return real(cb, ...args);
    };
    try {
      await quietly(async () => {
        busyWait(SPIN_MS + 1);
        for (const cb of [dawnLike, bound, js]) g.setImmediate(cb);
        g.setImmediate(withArg, 'with-arg');
        // A promise's resolve function is native and nameless but takes a parameter.
        let resolve: unknown;
        await new Promise((r) => {
          resolve = r;
          g.setImmediate(r);
        });
        expect(immediate).toEqual([bound, js, withArg, resolve]);
        expect(ran).toEqual(['bound', 'js', 'with-arg']);
        await new Promise((r) => setTimeout(r, 5));
        expect(ran).toEqual(['bound', 'js', 'with-arg', 'dawn-like']);
      });
    } finally {
      g.setImmediate = real;
    }
  });

  it('on a software adapter, a long GPU wait polls Dawn a few times instead of thousands', async () => {
    if (T.deviceInfo().kernels !== 'cpu') return; // quietWait 'auto' is for software adapters
    expect(T.deviceInfo().quietWait).toBe(true);
    const a = T.rand([384, 384], { seed: 1 });
    const b = T.rand([384, 384], { seed: 2 });
    await T.sync();
    const real = g.setImmediate;
    let polls = 0;
    g.setImmediate = (cb, ...args) => {
      if (args.length === 0) polls++;
      return real(cb, ...args);
    };
    try {
      let c = T.matmul(a, b);
      for (let i = 0; i < 7; i++) c = T.matmul(c, b);
      const t0 = performance.now();
      await c.data();
      const ms = performance.now() - t0;
      // Only polls that reach the real setImmediate are counted: a busy wait re-queues one every
      // few microseconds (20-80 per ms on the machines we have seen), a quiet one only during
      // its first SPIN_MS, however fast the host polls, and then on a 1 ms timer.
      expect(ms).toBeGreaterThan(40);
      expect(polls).toBeLessThan(150 + 2 * ms);
    } finally {
      g.setImmediate = real;
    }
  });
});
