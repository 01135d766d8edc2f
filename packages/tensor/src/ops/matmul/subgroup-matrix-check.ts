// Subgroup matrices switch themselves on: when ready() acquires a device that lists
// 'chromium-experimental-subgroup-matrix' with an f16 configuration (Dawn lists it only with
// allow_unsafe_apis: DeviceOptions.subgroupMatrices true asks for that), one f16
// product runs through the subgroup-matrix kernel and through the tiled f16 kernel, and the
// route opens only where the two agree. A driver that compiles the builtins but computes
// something else (or fails to compile them) then costs one check at start-up, not wrong results.
import { addReadyCheck, type DeviceOptions } from '../../device.js';
import { errorSummary } from '../../errors.js';
import type { Engine } from '../../engine.js';
import { cast } from '../elementwise.js';
import { rand } from '../creation.js';
import { scope } from '../../scope.js';
import { chooseSubgroupMatrixConfig } from './matmul-subgroup-matrix.js';
import { matmulRaw, matmulSubgroupMatrixRoute, setSubgroupMatrices } from './matmul.js';

/** The check product's size: whole blocks of the default shape in every configuration the adapters list (8, 16 or 32). */
export const CHECK_SIZE = 128;
/** Largest relative difference from the tiled kernel (f32 sums of the same f16 products, another order). */
export const CHECK_TOLERANCE = 1e-4;

export interface SubgroupMatrixFacts {
  family: 'cpu' | 'gpu';
  hasFeature: boolean;
  hasF16Config: boolean;
  /** Dawn was asked for its experimental features (allow_unsafe_apis), which list the feature. */
  unsafeApis: boolean;
}

/**
 * The decision from the setting, the device's facts and `check` (the worst relative difference
 * of the check product, or a thrown error where it does not compile or run).
 */
export async function decideSubgroupMatrices(
  setting: 'auto' | boolean,
  facts: SubgroupMatrixFacts,
  check: () => Promise<number>,
): Promise<{ enabled: boolean; detail: string }> {
  if (setting === false) return { enabled: false, detail: 'off (DeviceOptions.subgroupMatrices false)' };
  if (!facts.hasFeature)
    return {
      enabled: false,
      detail: facts.unsafeApis
        ? "off: the device does not list 'chromium-experimental-subgroup-matrix'"
        : "off: the device does not list 'chromium-experimental-subgroup-matrix' (Dawn lists it only with allow_unsafe_apis: ready({ subgroupMatrices: true }) or SPINE_SUBGROUP_MATRICES=1)",
    };
  if (!facts.hasF16Config) return { enabled: false, detail: 'off: no f16 configuration with f32 results' };
  if (facts.family !== 'gpu') return { enabled: false, detail: "off: the 'cpu' kernel family has no such route" };
  try {
    const worst = await check();
    return worst <= CHECK_TOLERANCE
      ? {
          enabled: true,
          detail: `on: the check product agrees with the tiled kernel (worst ${worst.toExponential(1)})`,
        }
      : {
          enabled: false,
          detail: `off: the check product differs from the tiled kernel (worst relative ${worst.toExponential(1)}, tolerance ${CHECK_TOLERANCE})`,
        };
  } catch (err) {
    return { enabled: false, detail: `off: the check product failed (${errorSummary(err)})` };
  }
}

/** Worst relative difference of a CHECK_SIZE³ f16 product, subgroup matrices against the tiled kernel. */
async function checkProduct(): Promise<number> {
  const n = CHECK_SIZE;
  const run = (on: boolean) => {
    setSubgroupMatrices(on, 'checking');
    return matmulRaw(a, b, false, false, null, 'f32');
  };
  setSubgroupMatrices(true, 'checking');
  if (!matmulSubgroupMatrixRoute(n, n, n)) throw new Error(`no block of the kernel fits ${n}³ on this device`);
  const [a, b] = scope(() => [
    cast(rand([n, n], { seed: 11 }), 'f16').keep(),
    cast(rand([n, n], { seed: 12 }), 'f16').keep(),
  ]);
  try {
    const got = run(true);
    const want = run(false);
    const [g, w] = [await got.data(), await want.data()];
    got.dispose();
    want.dispose();
    let worst = 0;
    for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(g[i]! - w[i]!) / (1e-3 + Math.abs(w[i]!)));
    return worst;
  } finally {
    a.dispose();
    b.dispose();
  }
}

addReadyCheck(async (engine: Engine, options: DeviceOptions) => {
  const facts: SubgroupMatrixFacts = {
    family: engine.info.kernels,
    hasFeature: engine.device.features.has('chromium-experimental-subgroup-matrix' as GPUFeatureName),
    hasF16Config: chooseSubgroupMatrixConfig(engine.info.subgroupMatrixConfigs, 'f16') !== null,
    unsafeApis: engine.unsafeApis,
  };
  const { enabled, detail } = await decideSubgroupMatrices(options.subgroupMatrices ?? 'auto', facts, checkProduct);
  setSubgroupMatrices(enabled, detail);
});
