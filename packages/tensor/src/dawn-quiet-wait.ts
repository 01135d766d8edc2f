// Waiting for Dawn without a busy loop (Node only).
//
// dawn.node settles its promises (mapAsync, onSubmittedWorkDone, popErrorScope) by polling Dawn
// from a callback it re-queues with the global `setImmediate` for as long as one is pending. That
// keeps a core at 100% for the whole wait. On a software adapter (lavapipe) the "GPU" is the
// other cores, so on a 2-core machine the poll takes a third of the CPU from the kernels
// (docs/PERFORMANCE.md, "Waiting").
//
// `quietly(fn)` marks a region in which that poll, after the first SPIN_MS of spinning (so short
// waits keep their latency), is re-queued with a 1 ms timer instead. Only dawn.node's callback
// is slowed: a native function without name or parameters, queued without arguments. Every
// other caller gets the real setImmediate, including `await new Promise((r) => setImmediate(r))`
// (a promise's resolve function is native and nameless too, but takes one parameter).

declare const performance: { now(): number };
declare function setTimeout(cb: () => void, ms: number): unknown;

type SetImmediate = (cb: (...args: unknown[]) => void, ...args: unknown[]) => unknown;
interface Timers {
  setImmediate?: SetImmediate;
}

/** Spin at full speed this long before slowing the poll to one tick per millisecond. */
export const SPIN_MS = 1;

const nativeSource = Function.prototype.toString;
let depth = 0;
let since = 0;
let original: SetImmediate | undefined;

function isDawnPoll(cb: unknown, args: unknown[]): boolean {
  return (
    args.length === 0 &&
    typeof cb === 'function' &&
    cb.length === 0 &&
    cb.name === '' &&
    nativeSource.call(cb).endsWith('{ [native code] }')
  );
}

const throttled: SetImmediate = (cb, ...args) => {
  if (isDawnPoll(cb, args) && performance.now() - since > SPIN_MS) return setTimeout(() => cb(), 1);
  return original!(cb, ...args);
};

/** Run `fn` (which awaits Dawn promises) with dawn.node's polling slowed after SPIN_MS. */
export async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const g = globalThis as unknown as Timers;
  if (depth === 0) {
    if (typeof g.setImmediate !== 'function') return fn();
    original = g.setImmediate;
    g.setImmediate = throttled;
    since = performance.now();
  }
  depth++;
  try {
    return await fn();
  } finally {
    if (--depth === 0 && g.setImmediate === throttled) g.setImmediate = original;
  }
}

/** How many quiet regions are open (for tests). */
export function quietDepth(): number {
  return depth;
}
