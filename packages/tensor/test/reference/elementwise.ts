// float64 elementwise reference with broadcasting, driven by the same ELEMENTWISE table as
// the kernels: a wrong `ref` would be wrong in both, but a wrong WGSL expression, stride or
// broadcast shows up here.
import { ELEMENTWISE, type ElementwiseName } from '../../src/ops/elementwise-table.js';
import { broadcastShapes, build, getBroadcast, type Arr } from './ndarray.js';

export type RefOperand = Arr | number;

export function refElementwise(name: ElementwiseName, operands: readonly RefOperand[]): Arr {
  const def = ELEMENTWISE[name];
  if (operands.length !== def.arity) throw new Error(`${name}: arity ${def.arity}, got ${operands.length}`);
  const arrays = operands.filter((o): o is Arr => typeof o !== 'number');
  const shape = broadcastShapes(...arrays.map((a) => a.shape));
  const ref = def.ref as (...x: number[]) => number;
  return build(shape, (idx) => ref(...operands.map((o) => (typeof o === 'number' ? o : getBroadcast(o, idx)))));
}

/** `clamp` as the public function calls it (scalar bounds). */
export function refClamp(x: Arr, lo: number, hi: number): Arr {
  return refElementwise('clamp', [x, lo, hi]);
}

/** Conversion to i32 as WGSL's i32(f32) does it: toward zero. */
export function refCastToInt(x: Arr): Arr {
  return { shape: [...x.shape], data: x.data.map((v) => Math.trunc(v)) };
}
