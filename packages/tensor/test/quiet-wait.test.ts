// Waiting for the GPU without dawn.node's busy poll (dawn-quiet-wait.ts): the poll is slowed
// only inside a quiet region, only after SPIN_MS, only for dawn's kind of callback (a native
// function queued without arguments), and the real setImmediate comes back afterwards.
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/node.js';
import { quietDepth, quietly, SPIN_MS } from '../src/dawn-quiet-wait.js';

type SI = (cb: (...args: unknown[]) => void, ...args: unknown[]) => unknown;
type ST = (cb: () => void, ms?: number) => unknown;
const g = globalThis as unknown as { setImmediate: SI; setTimeout: ST };

/**
 * Run `fn` with performance.now() reading `clock.ms`, a clock the test moves by hand: whether
 * a wait is past its spin then depends on what the test says, not on how fast this machine is.
 */
async function withFakeClock<R>(fn: (clock: { ms: number }) => Promise<R>): Promise<R> {
  const clock = { ms: 0 };
  Object.defineProperty(performance, 'now', { value: () => clock.ms, configurable: true, writable: true });
  try {
    return await fn(clock);
  } finally {
    delete (performance as { now?: unknown }).now; // the prototype's own now() again
  }
}

/** Dawn's kind of poll, as dawn-quiet-wait.ts recognises it: native, nameless, no parameters. */
function looksLikeDawnPoll(cb: unknown, args: unknown[]): boolean {
  return (
    args.length === 0 &&
    typeof cb === 'function' &&
    cb.length === 0 &&
    cb.name === '' &&
    Function.prototype.toString.call(cb).endsWith('{ [native code] }')
  );
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
    // The setImmediate and setTimeout that quietly() finds are these spies: what reaches the
    // first was not deferred, what reaches the second with 1 ms was.
    const real = g.setImmediate;
    const realTimeout = g.setTimeout;
    const immediate: unknown[] = [];
    let deferred = 0;
    g.setImmediate = (cb, ...args) => {
      immediate.push(cb);
      return real(cb, ...args);
    };
    g.setTimeout = (cb, ms) => {
      if (ms === 1) deferred++;
      return realTimeout(cb, ms);
    };
    try {
      await withFakeClock((clock) =>
        quietly(async () => {
          // Within the spin even Dawn's poll runs at once.
          g.setImmediate(dawnLike);
          expect(immediate).toEqual([dawnLike]);
          expect(deferred).toBe(0);
          await new Promise((r) => real(r));
          immediate.length = 0;
          clock.ms = SPIN_MS + 1;
          for (const cb of [dawnLike, bound, js]) g.setImmediate(cb);
          g.setImmediate(withArg, 'with-arg');
          // A promise's resolve function is native and nameless but takes a parameter.
          let resolve: unknown;
          await new Promise((r) => {
            resolve = r;
            g.setImmediate(r);
          });
          expect(immediate).toEqual([bound, js, withArg, resolve]);
          expect(deferred).toBe(1);
          // The deferred poll's 1 ms timer may fire before or after the immediates on a busy
          // machine (Node runs timers first in a loop turn once their time has come), so only
          // the immediates' own order is fixed.
          expect(ran.filter((r) => r !== 'dawn-like')).toEqual(['bound', 'js', 'with-arg']);
          await new Promise<void>((r) => realTimeout(() => r(), 5));
          expect(ran).toContain('bound');
          expect(ran.filter((r) => r === 'dawn-like')).toHaveLength(2);
        }),
      );
    } finally {
      g.setImmediate = real;
      g.setTimeout = realTimeout;
    }
  });

  it('on a software adapter, every poll of a GPU wait past its spin goes through a 1 ms timer', async () => {
    if (T.deviceInfo().kernels !== 'cpu') return; // quietWait 'auto' is for software adapters
    expect(T.deviceInfo().quietWait).toBe(true);
    const a = T.rand([256, 256], { seed: 1 });
    const b = T.rand([256, 256], { seed: 2 });
    // A wait long enough for Dawn to poll many times: a chain of dependent products sized from
    // one product's time (sizing only; nothing below depends on how long anything took).
    await T.matmul(a, b).data(); // compiles the kernel
    let t0 = performance.now();
    await T.matmul(a, b).data();
    t0 = performance.now() - t0;
    const chain = Math.min(64, Math.max(4, Math.ceil(50 / Math.max(t0, 0.1))));
    await T.sync();
    const realImmediate = g.setImmediate;
    const realTimeout = g.setTimeout;
    let immediatePolls = 0;
    let timerPolls = 0;
    g.setImmediate = (cb, ...args) => {
      if (looksLikeDawnPoll(cb, args)) immediatePolls++;
      return realImmediate(cb, ...args);
    };
    g.setTimeout = (cb, ms) => {
      if (ms === 1) timerPolls++;
      return realTimeout(cb, ms);
    };
    try {
      await withFakeClock((clock) =>
        // The outer region starts the spin at 0; the engine's own region nests inside it.
        quietly(async () => {
          let c = T.matmul(a, b);
          for (let i = 1; i < chain; i++) c = T.matmul(c, b);
          clock.ms = SPIN_MS + 1; // the wait below is past its spin from its first poll
          await c.data();
        }),
      );
    } finally {
      g.setImmediate = realImmediate;
      g.setTimeout = realTimeout;
    }
    // A busy wait would re-queue Dawn's poll with setImmediate every few microseconds and never
    // use a timer; a quiet one past its spin never takes the immediate queue.
    expect(immediatePolls).toBe(0);
    expect(timerPolls).toBeGreaterThan(0);
  });
});
