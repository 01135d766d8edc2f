// The check that routes autocast convolutions to subgroup matrices at ready(): its decision from
// the device's facts, and the check convolutions themselves, run here on the emulated kernel (this
// adapter has no subgroup matrices) against the tiled kernels: they must agree, through every
// variant the check dispatches.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { convSubgroupMatrixStatus } from '../../../src/index.js';
import {
  CONV_CHECK_TOLERANCE,
  checkConvolutions,
  decideConvSubgroupMatrices,
} from '../../../src/ops/conv2d/conv2d-subgroup-matrix-check.js';
import { setConvSubgroupMatrixEmulation } from '../../../src/tuning.js';

beforeAll(async () => {
  await T.ready();
});
afterEach(() => {
  setConvSubgroupMatrixEmulation(null);
  T.setKernelFamily(null);
});

const facts = { eligible: true, subgroupMinSize: 32, subgroupMaxSize: 32 };
const never = async (): Promise<number> => {
  throw new Error('the check ran where the facts already decide');
};

describe('the decision', () => {
  it('needs what f16 products need, and one subgroup size; not their check', async () => {
    expect(await decideConvSubgroupMatrices({ ...facts, eligible: false }, never)).toEqual({
      enabled: false,
      detail: 'off, as for f16 products (subgroupMatrixStatus() says why)',
    });
    const mixedSizes = await decideConvSubgroupMatrices({ ...facts, subgroupMinSize: 8 }, never);
    expect(mixedSizes).toEqual({
      enabled: false,
      detail: 'off: subgroups of 8-32 invocations (the kernel needs one size)',
    });
  });

  it('opens the route only where the check convolutions agree', async () => {
    expect(await decideConvSubgroupMatrices(facts, async () => 3e-7)).toMatchObject({ enabled: true });
    const differs = await decideConvSubgroupMatrices(facts, async () => 0.5);
    expect(differs.enabled).toBe(false);
    expect(differs.detail).toContain('differ from the tiled kernels (worst relative 5.0e-1');
    const broken = await decideConvSubgroupMatrices(facts, async () => {
      throw new T.WgslCompileError('nn_conv2d_subgroup_matrix', 'error: builtin in non-uniform control flow\nline 2');
    });
    expect(broken).toMatchObject({ enabled: false });
    expect(broken.detail).toBe(
      "off: the check convolutions failed (WGSL compile error in kernel 'nn_conv2d_subgroup_matrix', error: builtin in non-uniform control flow)",
    );
    expect(broken.detail).not.toContain('line 2');
  });

  it('stays off on an adapter without subgroup matrices, saying why', () => {
    const status = convSubgroupMatrixStatus();
    if (T.deviceInfo().features.includes('chromium-experimental-subgroup-matrix')) return;
    expect(status.enabled).toBe(false);
    expect(status.detail).toBe('off, as for f16 products (subgroupMatrixStatus() says why)');
  });
});

const hasF16 = () => T.getEngine().device.features.has('shader-f16');

describe.runIf(hasF16)('the check convolutions (emulated subgroup matrices)', () => {
  it('agree with the tiled kernels through the forward, both gradients and the BN-ReLU variant', async () => {
    T.setKernelFamily('gpu');
    setConvSubgroupMatrixEmulation({ m: 16, n: 16, k: 16, subgroupSize: 32 });
    let worst = Infinity;
    const profile = await T.profileKernels(async () => {
      worst = await checkConvolutions();
    });
    // Two convolutions, each forward, data gradient and weight gradient on subgroup matrices once.
    expect(profile.kernels.find((k) => k.name === 'nn_conv2d_subgroup_matrix')?.dispatches).toBe(6);
    expect(worst).toBeLessThan(CONV_CHECK_TOLERANCE);
  });
});
