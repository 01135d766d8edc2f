// State-dict entries that a module keeps in pieces. A weight too large for one storage binding
// (ShardedLinear's) lives in several tensors, each a block of rows; checkpoints and PyTorch files
// hold it as the one tensor PyTorch has. These helpers join the pieces' CPU data into that entry
// and split such an entry back, exactly (row blocks are contiguous runs of the row-major data,
// so joining is concatenation along axis 0 and splitting is slicing it, with no arithmetic).
import * as T from '@spine/tensor';
import { NnError } from '../errors.js';
import type { StateEntry, StateSource } from './module.js';

/** One joined entry: its local name and the local names of its pieces, in row order. */
export interface StateGroup {
  name: string;
  parts: readonly string[];
}

type Data = StateEntry['data'];

function rowsOf(shape: readonly number[], key: string): number {
  if (shape.length < 1) throw new NnError(`state entry '${key}' is a scalar; only row blocks can be joined`);
  return shape[0]!;
}

/**
 * Replace the pieces of `group` in `entries` (CPU data, keys `prefix + name`) by the joined
 * entry, at the position of the first piece so the key order stays PyTorch's.
 */
export function joinStateGroup(
  entries: Map<string, StateEntry>,
  prefix: string,
  group: StateGroup,
): Map<string, StateEntry> {
  const keys = group.parts.map((p) => prefix + p);
  const parts = keys.map((k) => {
    const e = entries.get(k);
    if (!e) throw new NnError(`cannot join '${prefix + group.name}': its piece '${k}' is not in the state dict`);
    return e;
  });
  const tail = parts[0]!.shape.slice(1);
  for (const [i, e] of parts.entries()) {
    if (e.shape.length !== tail.length + 1 || e.shape.slice(1).some((d, j) => d !== tail[j])) {
      throw new NnError(
        `cannot join '${prefix + group.name}': piece '${keys[i]}' has shape [${e.shape.join(', ')}], the first [${parts[0]!.shape.join(', ')}]`,
      );
    }
    if (e.data.constructor !== parts[0]!.data.constructor)
      throw new NnError(`cannot join '${prefix + group.name}': pieces of different dtypes`);
  }
  const rows = parts.reduce((s, e) => s + rowsOf(e.shape, prefix + group.name), 0);
  const length = parts.reduce((s, e) => s + e.data.length, 0);
  const data = new (parts[0]!.data.constructor as new (n: number) => Data)(length);
  let at = 0;
  for (const e of parts) {
    (data as Float32Array).set(e.data as Float32Array, at);
    at += e.data.length;
  }
  const joined: StateEntry = { shape: [rows, ...tail], data };
  const out = new Map<string, StateEntry>();
  const drop = new Set(keys);
  for (const [k, v] of entries) {
    if (k === keys[0]) out.set(prefix + group.name, joined);
    else if (!drop.has(k)) out.set(k, v);
  }
  return out;
}

/**
 * If `source` holds the joined entry of `group` (and none of its pieces), replace it by the
 * pieces, cut to the shapes the module's pieces have (`partShapes`, row blocks with one trailing
 * shape). A GPU tensor source is cut with narrow (new tensors: the caller disposes them); CPU
 * data with subarray views. A joined entry of another shape is an error naming the key.
 */
export function splitStateGroup(
  source: Map<string, StateSource>,
  prefix: string,
  group: StateGroup,
  partShapes: readonly (readonly number[])[],
): Map<string, StateSource> {
  const key = prefix + group.name;
  const whole = source.get(key);
  if (!whole || group.parts.some((p) => source.has(prefix + p))) return source;
  const shape = whole.shape;
  const partTail = partShapes[0]!.slice(1);
  const partRows = partShapes.map((s) => s[0]!);
  const rows = partRows.reduce((s, r) => s + r, 0);
  const fits =
    shape.length === partTail.length + 1 && shape[0] === rows && shape.slice(1).every((d, i) => d === partTail[i]);
  if (!fits) {
    throw new NnError(
      `loadStateDict: '${key}' has shape [${shape.join(', ')}] in the checkpoint but [${[rows, ...partTail].join(', ')}] in the model`,
    );
  }
  const rowSize = partTail.reduce((p, d) => p * d, 1);
  const pieces: StateSource[] = [];
  let start = 0;
  for (const r of partRows) {
    if (whole instanceof T.Tensor) pieces.push(T.narrow(whole, 0, start, r));
    else
      pieces.push({
        shape: [r, ...partTail],
        data: whole.data.subarray(start * rowSize, (start + r) * rowSize) as Data,
      });
    start += r;
  }
  const out = new Map<string, StateSource>();
  for (const [k, v] of source) {
    if (k !== key) {
      out.set(k, v);
      continue;
    }
    group.parts.forEach((p, i) => out.set(prefix + p, pieces[i]!));
  }
  return out;
}
