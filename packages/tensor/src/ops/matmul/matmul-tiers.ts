// Tiered register blocks for the cpu-family matmul (lavapipe), like a JIT's tier-up.
//
// The 16x8 baseline compiles in ~3.5 s. A 32x32 block runs about twice as fast (1024³, B packed:
// 4.6x tfjs-webgpu as shipped against 2.5x) but LLVM needs minutes to compile it on a cold shader
// cache (103 s for the packed NN kernel, bench/warmer-probe.mjs; 64x32, slower with packed B, about 13 min:
// docs/PERFORMANCE.md). So every product starts on the baseline; a (transA, transB) variant that has
// done `hotFlops` of work there is handed to the kernel warmer (another process fills Mesa's
// on-disk cache), and its products take the wide block once that is done, when this process's own
// compile of it is a cache hit. The wide block always reads packed B (matmul-pack.ts), so NT and
// TT share NN's and TN's kernels, and only products that pack are eligible. Without a warmer
// nothing changes. The texture-operand kernel (matmul-texture.ts) outruns even the 32x32 block
// (1.2-1.75x at 1024³) and compiles in seconds, so the tier-up is active only with
// `setMatmulTextures(false)`.
import { getEngine } from '../../device.js';
import { getKernelWarmer } from '../../kernel-warmer.js';
import type { MatmulOptions } from './matmul-kernel.js';
import { canPackB } from './matmul-pack.js';
import { matmulTexturesMode } from './matmul-texture.js';

export interface Tiles {
  tm: number;
  tn: number;
  wx: number;
  wy: number;
  /** cpu family, pinned tiles only: false reads B in place instead of packed (tuning, probes). */
  packB?: boolean;
  /** gpu family: k per workgroup-memory step (default 16). */
  bk?: number;
  /** gpu family, pinned tiles: split K into this many chunks (split-K). */
  splits?: number;
}

export type TierState = 'baseline' | 'warming' | 'ready' | 'failed';

interface Variant {
  transA: boolean;
  transB: boolean;
  flops: number;
  state: TierState;
  warmSeconds?: number;
  error?: string;
  pending?: Promise<void>;
}

export interface TierUpSettings {
  /** The wide block (vec4 path; tm and tn multiples of 4, wy 1). */
  tiles: Tiles;
  /**
   * Work (2·M·N·K summed) a variant does on the baseline before it is warmed: 1e13, some 15
   * minutes of matmul on lavapipe, well past a cold compile's 3-4 minutes, so a run that gets
   * there is likely long enough to repay it. At 1e12 the quick start warms a variant, gains
   * nothing and takes longer (docs/PERFORMANCE.md, "Wide blocks"). Runs that know they are long call
   * `warmMatmul()` up front.
   */
  hotFlops: number;
  enabled: boolean;
}

const settings: TierUpSettings = { tiles: { tm: 32, tn: 32, wx: 8, wy: 1 }, hotFlops: 1e13, enabled: true };
const variants = new Map<string, Variant>();

function variant(transA: boolean, transB: boolean): Variant {
  const k = `${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}`;
  let v = variants.get(k);
  if (!v) variants.set(k, (v = { transA, transB, flops: 0, state: 'baseline' }));
  return v;
}

/**
 * Whether hot variants will get the wide block here: a warmer is installed, tier-up is on, and
 * the adapter is llvmpipe (warming pays only where Mesa keeps compiled shaders on disk).
 */
export function matmulTierUpActive(): boolean {
  return warmable();
}

function warmable(): boolean {
  // With texture operands on, the products that could use a wide block take the texture kernel
  // instead (it compiles in seconds): nothing to warm.
  if (!settings.enabled || !getKernelWarmer() || matmulTexturesMode() !== false) return false;
  const info = getEngine().info;
  return info.kernels === 'cpu' && /llvmpipe/i.test(`${info.device} ${info.description}`);
}

function eligible(M: number, N: number, K: number, transA: boolean): boolean {
  const t = settings.tiles;
  return M >= t.tm && N >= t.wx * t.tn && canPackB(M, K, transA, t.tm, t.tn, t.wy);
}

function warm(v: Variant, hold: boolean): Promise<void> {
  const warmer = getKernelWarmer();
  if (!warmer || v.state === 'ready') return Promise.resolve();
  if (v.pending && !hold) return v.pending;
  const options: MatmulOptions = {
    family: 'cpu',
    transA: v.transA,
    transB: v.transB,
    vec4: true,
    packedB: true,
    ...settings.tiles,
  };
  const t0 = Date.now();
  const tiles = settings.tiles;
  v.state = 'warming';
  // Asked again with hold, the warmer shares the running compile and only holds the process.
  v.pending = warmer.warm({ kernel: 'matmul', options }, getEngine().options, hold).then(
    () => {
      if (settings.tiles !== tiles) return; // the settings changed meanwhile: this block is not the one in use
      v.state = 'ready';
      v.warmSeconds ??= (Date.now() - t0) / 1000;
    },
    (err: unknown) => {
      v.state = 'failed';
      v.error = err instanceof Error ? err.message : String(err);
    },
  );
  return v.pending;
}

/**
 * The wide tiles if this product's variant is warm, else null (use the baseline); counts the
 * product's work toward warming its variant.
 */
export function tieredTiles(
  M: number,
  N: number,
  K: number,
  batch: number,
  transA: boolean,
  transB: boolean,
): Tiles | null {
  if (!eligible(M, N, K, transA)) return null;
  const v = variant(transA, transB);
  if (v.state === 'ready') return settings.tiles;
  v.flops += 2 * M * N * K * batch;
  if (v.state === 'baseline' && v.flops >= settings.hotFlops && warmable()) void warm(v, false);
  return null;
}

const ALL = [
  { transA: false, transB: false },
  { transA: true, transB: false },
  { transA: false, transB: true },
  { transA: true, transB: true },
];

/**
 * Warm the wide matmul block for these variants now (default: all four); true when all of them
 * will use it. For runs that know they are long, and for benchmarks that measure steady state.
 * On a cold cache this takes minutes per variant; afterwards it is quick. `wait: false` starts
 * the warming and returns at once (each variant switches when it is ready; the process may exit
 * meanwhile).
 */
export async function warmMatmul(
  which: { transA?: boolean; transB?: boolean }[] = ALL,
  { wait = true }: { wait?: boolean } = {},
): Promise<boolean> {
  if (!warmable()) return false;
  const vs = which.map((w) => variant(w.transA ?? false, w.transB ?? false));
  const all = Promise.all(vs.map((v) => warm(v, wait)));
  if (wait) await all;
  return vs.every((v) => v.state === 'ready');
}

/** The tier-up as it stands: one row per variant seen. */
export function matmulTiers(): {
  variant: string;
  state: TierState;
  gflop: number;
  warmSeconds?: number;
  error?: string;
}[] {
  return [...variants.entries()].map(([k, v]) => ({
    variant: k,
    state: v.state,
    gflop: v.flops / 1e9,
    ...(v.warmSeconds !== undefined ? { warmSeconds: v.warmSeconds } : {}),
    ...(v.error !== undefined ? { error: v.error } : {}),
  }));
}

export function getMatmulTierUp(): TierUpSettings {
  return { ...settings, tiles: { ...settings.tiles } };
}

/** Tuning and tests: change the wide block, the hot threshold, or turn tier-up off. Resets it. */
export function setMatmulTierUp(s: Partial<TierUpSettings>): void {
  Object.assign(settings, s);
  if (s.tiles) settings.tiles = { ...s.tiles };
  variants.clear();
}
