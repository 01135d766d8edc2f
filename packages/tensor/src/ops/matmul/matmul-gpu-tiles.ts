// Tile shapes of the gpu-family matmul, chosen per problem size from a small table.
//
// Products fall into size classes; each class has one tile configuration. The defaults come
// from public measurements, not from a probe on our own kernels (docs/PERFORMANCE.md, "Real
// GPUs: tile shapes"): a 128x64 tile with 256 threads and 8x4 outputs per thread reached 82% of
// the WGSL f32 FMA ceiling on an A100 (large products); 64x64 with 4x4 per thread was our best
// square shape on an H200 at 1024³ (mid); tfjs's 32x32 with 64 threads keeps small products
// spread over many workgroups; products with few rows (M <= 32, e.g. 10x4096x4096) or few columns
// take narrow tiles so that no workgroup computes mostly padding; many outputs over a short K
// (K <= 256, e.g. 12544x128x256, a 1x1 conv's shape) spend a large share of each tile's time
// outside the k loop, so they keep tfjs's small tiles until a probe says otherwise. A product whose tiles would
// leave the device idle (fewer workgroups than the class's `splitBelow`) splits K over extra
// workgroups and adds the partial products afterwards (split-K). `bench/gpu-tile-probe.mjs`
// times every candidate per class on the adapter at hand and prints a table to put here.
export interface GpuTiles {
  /** Outputs per thread: tm rows x tn columns (multiples of 4). */
  tm: number;
  tn: number;
  /** Threads per workgroup along columns (x) and rows (y). */
  wx: number;
  wy: number;
  /** k per workgroup-memory step (a multiple of 4). */
  bk: number;
}

export type GpuSizeClass = 'small' | 'mid' | 'large' | 'short' | 'narrow' | 'shallow';

export interface GpuTileRow {
  tiles: GpuTiles;
  /** Split K when the product has fewer output workgroups than this (0: never). */
  splitBelow: number;
}

export const GPU_SIZE_CLASSES: readonly GpuSizeClass[] = ['small', 'mid', 'large', 'short', 'narrow', 'shallow'];

const DEFAULT_TABLE: Record<GpuSizeClass, GpuTileRow> = {
  small: { tiles: { tm: 4, tn: 4, wx: 8, wy: 8, bk: 16 }, splitBelow: 128 },
  mid: { tiles: { tm: 4, tn: 4, wx: 16, wy: 16, bk: 16 }, splitBelow: 128 },
  large: { tiles: { tm: 8, tn: 4, wx: 16, wy: 16, bk: 16 }, splitBelow: 0 },
  short: { tiles: { tm: 4, tn: 4, wx: 16, wy: 4, bk: 16 }, splitBelow: 256 },
  narrow: { tiles: { tm: 4, tn: 4, wx: 8, wy: 16, bk: 16 }, splitBelow: 128 },
  shallow: { tiles: { tm: 4, tn: 4, wx: 8, wy: 8, bk: 16 }, splitBelow: 0 },
};

/** A deep copy of table rows (the core has no DOM or Node globals such as structuredClone). */
function copyRows<T extends Partial<Record<GpuSizeClass, GpuTileRow>>>(rows: T): T {
  return Object.fromEntries(
    Object.entries(rows).map(([k, r]) => [k, { tiles: { ...r!.tiles }, splitBelow: r!.splitBelow }]),
  ) as T;
}

let table: Record<GpuSizeClass, GpuTileRow> = copyRows(DEFAULT_TABLE);

/** Each split-K chunk keeps at least this much of K, so the partial sums stay worth their pass. */
export const SPLIT_MIN_CHUNK = 256;

/**
 * The class of a product: few rows or few columns first (their tiles are shaped for that), then
 * by output size over the batch: below 2^18 outputs (512²) small, from 2^22 (2048²) large; from
 * 2^18 outputs with K <= 256, shallow.
 */
export function gpuSizeClass(M: number, N: number, nb = 1, K = Infinity): GpuSizeClass {
  if (M <= 32) return 'short';
  if (N <= 32) return 'narrow';
  const outputs = M * N * nb;
  if (outputs < 1 << 18) return 'small';
  if (K <= 256) return 'shallow';
  return outputs >= 1 << 22 ? 'large' : 'mid';
}

export interface GpuMatmulPlan {
  sizeClass: GpuSizeClass | 'pinned';
  tiles: GpuTiles;
  /** K chunks (1: no split) and the k per chunk, a multiple of bk. */
  splits: number;
  chunk: number;
}

/** Output workgroups of a product in these tiles. */
export function gpuWorkgroups(M: number, N: number, nb: number, t: GpuTiles): number {
  return Math.ceil(M / (t.tm * t.wy)) * Math.ceil(N / (t.tn * t.wx)) * nb;
}

/**
 * How K is split for a product with `workgroups` output workgroups: enough chunks to reach
 * `splitBelow` workgroups, each at least SPLIT_MIN_CHUNK long, within the 65,535 z limit.
 */
export function splitK(
  K: number,
  nb: number,
  workgroups: number,
  splitBelow: number,
  bk: number,
): { splits: number; chunk: number } {
  let splits = 1;
  if (workgroups < splitBelow)
    splits = Math.min(Math.ceil(splitBelow / workgroups), Math.floor(K / SPLIT_MIN_CHUNK), Math.floor(65535 / nb));
  if (splits <= 1) return { splits: 1, chunk: K };
  const chunk = Math.ceil(K / splits / bk) * bk;
  return { splits: Math.ceil(K / chunk), chunk };
}

/** The tiles and split of a product (`pinned`: tiles fixed by setMatmulTiles, split as given there). */
export function gpuMatmulPlan(
  M: number,
  N: number,
  K: number,
  nb: number,
  pinned: (Partial<GpuTiles> & { tm: number; tn: number; wx: number; wy: number; splits?: number }) | null = null,
): GpuMatmulPlan {
  if (pinned) {
    const tiles: GpuTiles = { bk: 16, ...pinned };
    const want = Math.max(1, Math.min(pinned.splits ?? 1, Math.floor(65535 / nb)));
    if (want <= 1) return { sizeClass: 'pinned', tiles, splits: 1, chunk: K };
    const chunk = Math.max(tiles.bk, Math.ceil(K / want / tiles.bk) * tiles.bk);
    return { sizeClass: 'pinned', tiles, splits: Math.ceil(K / chunk), chunk };
  }
  const sizeClass = gpuSizeClass(M, N, nb, K);
  const row = table[sizeClass];
  return {
    sizeClass,
    tiles: { ...row.tiles },
    ...splitK(K, nb, gpuWorkgroups(M, N, nb, row.tiles), row.splitBelow, row.tiles.bk),
  };
}

/** The table in use, one row per size class. */
export function getGpuTileTable(): Record<GpuSizeClass, GpuTileRow> {
  return copyRows(table);
}

/** Replace rows of the table (the tile probe, tests); null restores the built-in table. */
export function setGpuTileTable(rows: Partial<Record<GpuSizeClass, GpuTileRow>> | null): void {
  table = rows ? { ...table, ...copyRows(rows) } : copyRows(DEFAULT_TABLE);
}
