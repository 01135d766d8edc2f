// Printing values the way PyTorch does (torch/_tensor_str.py with its default print options:
// precision 4, threshold 1000, edgeitems 3, linewidth 80), so a tensor printed here and one
// printed by PyTorch can be compared by eye: the same fixed, integer-valued or scientific mode,
// the same column width, line breaks and `...` summaries. Numbers are rounded from their exact
// binary value, half to even, as Python's format() does.
import type { DType, Tensor } from './tensor.js';
import { contiguousStrides, type Shape } from './shape.js';

const PRECISION = 4;
const THRESHOLD = 1000;
const EDGE = 3;
const LINEWIDTH = 80;

type Values = ArrayLike<number>;

/** |x| (finite, nonzero) as D / 10^k exactly. */
function exactDecimal(x: number): { d: bigint; k: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const expBits = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e = -1074;
  if (expBits !== 0) {
    mant |= 1n << 52n;
    e = expBits - 1075;
  }
  return e >= 0 ? { d: mant << BigInt(e), k: 0 } : { d: mant * 5n ** BigInt(-e), k: -e };
}

/** round(d / 10^shift), ties to even (shift may be negative: multiply). */
function roundShift(d: bigint, shift: number): bigint {
  if (shift <= 0) return d * 10n ** BigInt(-shift);
  const div = 10n ** BigInt(shift);
  const q = d / div;
  const twice = 2n * (d % div);
  return twice > div || (twice === div && q % 2n === 1n) ? q + 1n : q;
}

const negative = (x: number) => x < 0 || Object.is(x, -0);

function nonFinite(x: number): string | null {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x < 0 ? '-inf' : 'inf';
  return null;
}

/** Python's f'{x:.{p}f}'. */
export function pyFixed(x: number, p: number): string {
  const special = nonFinite(x);
  if (special) return special;
  let digits = '0';
  if (x !== 0) {
    const { d, k } = exactDecimal(x);
    digits = roundShift(d, k - p).toString();
  }
  if (p > 0) {
    digits = digits.padStart(p + 1, '0');
    digits = `${digits.slice(0, -p)}.${digits.slice(-p)}`;
  }
  return (negative(x) ? '-' : '') + digits;
}

/** Python's f'{x:.{p}e}'. */
export function pyScientific(x: number, p: number): string {
  const special = nonFinite(x);
  if (special) return special;
  let mant = '0'.repeat(p + 1);
  let exp = 0;
  if (x !== 0) {
    const { d, k } = exactDecimal(x);
    const n = d.toString().length;
    let r = roundShift(d, n - (p + 1));
    exp = n - 1 - k;
    if (r.toString().length > p + 1) {
      r /= 10n;
      exp++;
    }
    mant = r.toString();
  }
  const body = p > 0 ? `${mant[0]}.${mant.slice(1)}` : mant;
  return `${negative(x) ? '-' : ''}${body}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** torch's _Formatter: one column width and one mode for every value printed. */
class Formatter {
  private intMode = true;
  private sciMode = false;
  private width = 1;

  constructor(
    private readonly floating: boolean,
    values: Values,
  ) {
    if (!floating) {
      for (let i = 0; i < values.length; i++) this.width = Math.max(this.width, String(values[i]).length);
      return;
    }
    const finite: number[] = [];
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (Number.isFinite(v) && v !== 0) finite.push(v);
    }
    if (!finite.length) return;
    let lo = Infinity;
    let hi = 0;
    for (const v of finite) {
      lo = Math.min(lo, Math.abs(v));
      hi = Math.max(hi, Math.abs(v));
      if (v !== Math.ceil(v)) this.intMode = false;
    }
    const wide = hi / lo > 1000 || hi > 1e8;
    this.sciMode = this.intMode ? wide : wide || lo < 1e-4;
    for (const v of finite) {
      const s = this.sciMode ? pyScientific(v, PRECISION) : this.intMode ? `${pyFixed(v, 0)}.` : pyFixed(v, PRECISION);
      this.width = Math.max(this.width, s.length);
    }
  }

  get columnWidth(): number {
    return this.width;
  }

  format(v: number): string {
    let s: string;
    if (!this.floating) s = String(v);
    else if (this.sciMode) s = pyScientific(v, PRECISION);
    else if (this.intMode) s = pyFixed(v, 0) + (Number.isFinite(v) ? '.' : '');
    else s = pyFixed(v, PRECISION);
    return s.padStart(this.width);
  }
}

/** The elements PyTorch looks at to choose the format: every one, or the edges of a summary. */
function summarised(values: Values, shape: Shape, summarise: boolean): number[] {
  const strides = contiguousStrides(shape);
  const out: number[] = [];
  const walk = (dim: number, offset: number) => {
    if (dim === shape.length) {
      out.push(values[offset]!);
      return;
    }
    const n = shape[dim]!;
    const idx =
      summarise && n > 2 * EDGE
        ? [...Array(EDGE).keys(), ...Array.from({ length: EDGE }, (_, i) => n - EDGE + i)]
        : [...Array(n).keys()];
    for (const i of idx) walk(dim + 1, offset + i * strides[dim]!);
  };
  walk(0, 0);
  return out;
}

/**
 * The values laid out as PyTorch's repr lays out the part after `tensor(`: nested brackets,
 * rows wrapped at 80 columns, `...` in place of the middle when there are more than 1000
 * elements. `indent` is the column the opening bracket sits at.
 */
export function formatValues(values: Values, shape: Shape, dtype: DType, indent: number): string {
  const size = values.length;
  if (size === 0) return '[]';
  const summarise = size > THRESHOLD;
  const formatter = new Formatter(dtype !== 'i32', summarised(values, shape, summarise));
  const strides = contiguousStrides(shape);
  const vector = (offset: number, n: number, stride: number, ind: number): string => {
    const perLine = Math.max(1, Math.floor((LINEWIDTH - ind) / (formatter.columnWidth + 2)));
    const at = (i: number) => formatter.format(values[offset + i * stride]!);
    const items =
      summarise && n > 2 * EDGE
        ? [
            ...Array.from({ length: EDGE }, (_, i) => at(i)),
            ' ...',
            ...Array.from({ length: EDGE }, (_, i) => at(n - EDGE + i)),
          ]
        : Array.from({ length: n }, (_, i) => at(i));
    const lines: string[] = [];
    for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(', '));
    return `[${lines.join(`,\n${' '.repeat(ind + 1)}`)}]`;
  };
  const nested = (dim: number, offset: number, ind: number): string => {
    const rank = shape.length - dim;
    if (rank === 0) return formatter.format(values[offset]!);
    const n = shape[dim]!;
    if (rank === 1) return vector(offset, n, strides[dim]!, ind);
    const sub = (i: number) => nested(dim + 1, offset + i * strides[dim]!, ind + 1);
    const slices =
      summarise && n > 2 * EDGE
        ? [
            ...Array.from({ length: EDGE }, (_, i) => sub(i)),
            '...',
            ...Array.from({ length: EDGE }, (_, i) => sub(n - EDGE + i)),
          ]
        : Array.from({ length: n }, (_, i) => sub(i));
    return `[${slices.join(`,${'\n'.repeat(rank - 1)}${' '.repeat(ind + 1)}`)}]`;
  };
  return nested(0, 0, indent);
}

export interface FormatNotes {
  requiresGrad?: boolean;
  /** The name of the op that made the tensor, when autograd recorded it. */
  gradFn?: string | null;
}

/**
 * `tensor([...])` as PyTorch prints it. The notes after the values use this library's names:
 * `requiresGrad=true`, `gradFn=<op>`, and `dtype=i32`/`size=[...]` for empty tensors, whose
 * values cannot show their type and shape (f32 and i32 play PyTorch's default float and int);
 * `dtype=f16` always, as PyTorch names a half tensor's dtype.
 */
export function formatTensor(values: Values, shape: Shape, dtype: DType, notes: FormatNotes = {}): string {
  const prefix = 'tensor(';
  const suffixes: string[] = [];
  if (values.length === 0) {
    if (shape.length !== 1) suffixes.push(`size=[${shape.join(', ')}]`);
    if (dtype === 'i32') suffixes.push(`dtype=${dtype}`);
  }
  if (dtype === 'f16') suffixes.push('dtype=f16');
  if (notes.gradFn) suffixes.push(`gradFn=<${notes.gradFn}>`);
  else if (notes.requiresGrad) suffixes.push('requiresGrad=true');
  let out = prefix + formatValues(values, shape, dtype, prefix.length);
  let lastLine = out.length - out.lastIndexOf('\n') + 1;
  for (const s of suffixes) {
    if (lastLine + s.length + 2 > LINEWIDTH) {
      out += `,\n${' '.repeat(prefix.length)}${s}`;
      lastLine = prefix.length + s.length;
    } else {
      out += `, ${s}`;
      lastLine += s.length + 2;
    }
  }
  return `${out})`;
}

/** `await format(t)`: t's values as PyTorch prints them (reads them back); `t.print()` logs it. */
export function format(t: Tensor): Promise<string> {
  return t.format();
}
