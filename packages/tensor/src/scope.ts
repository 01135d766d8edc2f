// Scopes decide when GPU memory goes back, not the garbage collector (tfjs `tidy`).
// Every tensor created inside `scope(fn)` is disposed when fn returns, unless it is part of
// the return value or was `keep()`-ed. Tensors created outside any scope live until disposed.

export interface Disposable {
  dispose(): void;
  readonly isDisposed: boolean;
  readonly isKept: boolean;
}

const stack: Set<Disposable>[] = [];

export function track<T extends Disposable>(t: T): T {
  stack[stack.length - 1]?.add(t);
  return t;
}

/**
 * Run `fn`; dispose every tensor it created that is neither returned (directly, or inside
 * arrays and plain objects) nor kept. Returned tensors move to the enclosing scope.
 */
export function scope<T>(fn: () => T): T {
  const tracked = new Set<Disposable>();
  stack.push(tracked);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    stack.pop();
    for (const t of tracked) if (!t.isKept) t.dispose();
    throw err;
  }
  stack.pop();
  if (result instanceof Promise)
    throw new Error('scope(fn): fn must be synchronous (await outside the scope, or dispose by hand)');
  const returned = new Set<Disposable>();
  collect(result, returned, 0);
  for (const t of tracked) {
    if (returned.has(t)) continue;
    if (!t.isKept) t.dispose();
  }
  // Tensors made in this scope and returned now belong to the enclosing scope.
  for (const t of returned) if (tracked.has(t)) track(t);
  return result;
}

function collect(value: unknown, out: Set<Disposable>, depth: number): void {
  if (depth > 4 || value === null || typeof value !== 'object') return;
  if (isDisposable(value)) {
    out.add(value);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, out, depth + 1);
  else if (value instanceof Map) for (const v of value.values()) collect(v, out, depth + 1);
  else if (Object.getPrototypeOf(value) === Object.prototype)
    for (const v of Object.values(value)) collect(v, out, depth + 1);
}

function isDisposable(v: object): v is Disposable {
  return typeof (v as Disposable).dispose === 'function' && 'isDisposed' in v && 'isKept' in v;
}
