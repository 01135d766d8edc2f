// float64 batched matmul with transposed operands and torch.matmul batch broadcasting.
// Indexing is explicit per element (row-major offsets), not shared with the engine.
import { broadcastShapes, mapArr, numel, ravel, unravel, type Arr } from './ndarray.js';

export function refMatmul(a: Arr, b: Arr, transA = false, transB = false): Arr {
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const [M, K] = transA ? [ac, ar] : [ar, ac];
  const [K2, N] = transB ? [bc, br] : [br, bc];
  if (K !== K2) throw new Error(`refMatmul: K ${K} vs ${K2}`);
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batch = broadcastShapes(aBatch, bBatch);
  // Which matrix of an operand a batch index reads (size-1 batch dims broadcast).
  const pick = (own: number[], idx: number[]) =>
    ravel(
      own.map((d, i) => (d === 1 ? 0 : idx[idx.length - own.length + i]!)),
      own,
    );
  const out = new Float64Array(numel(batch) * M * N);
  for (let bi = 0; bi < numel(batch); bi++) {
    const idx = unravel(bi, batch);
    const aOff = pick(aBatch, idx) * M * K;
    const bOff = pick(bBatch, idx) * K * N;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const av = a.data[aOff + (transA ? k * M + m : m * K + k)]!;
          const bv = b.data[bOff + (transB ? n * K + k : k * N + n)]!;
          s += av * bv;
        }
        out[(bi * M + m) * N + n] = s;
      }
    }
  }
  return { shape: [...batch, M, N], data: out };
}

/** |A|·|B|: the scale of each output's rounding error. */
export function refMatmulAbs(a: Arr, b: Arr, transA = false, transB = false): Arr {
  return refMatmul(mapArr(a, Math.abs), mapArr(b, Math.abs), transA, transB);
}
