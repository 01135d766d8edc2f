// The extension API as another package uses it: a custom op with its own WGSL kernel and
// backward rule, made with defineKernel + defineOp. The block below is written to be copied
// into the README (import from '@spine/tensor' there).
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/node.js';
import {
  defineKernel,
  defineOp,
  empty,
  grid1d,
  linearIndex,
  runKernel,
  uniformPreamble,
  Uniforms,
  type Tensor,
} from '../src/node.js';
import { gradCheck } from './helpers/gradcheck.js';
import { download, expectClose, upload } from './helpers/gpu.js';
import { randomArr, seedFor } from './helpers/random.js';
import { mapArr } from './reference/ndarray.js';

// ---- README example: leakyRelu ------------------------------------------------------------
// One kernel template, two variants: forward y = x > 0 ? x : slope*x, and backward
// dx = (x > 0 ? 1 : slope) * g. The options object selects the variant; the pipeline is
// compiled once per variant, and sizes travel as uniforms (word 0: n, word 1: slope).
const leakyReluKernel = defineKernel<{ backward: boolean }>({
  name: 'leaky_relu',
  inputs: (o) => (o.backward ? 2 : 1),
  outputs: 1,
  source: ({ backward }) => `${uniformPreamble()}
@group(0) @binding(1) var<storage, read> x: array<f32>;
${backward ? '@group(0) @binding(2) var<storage, read> g: array<f32>;' : ''}
@group(0) @binding(${backward ? 3 : 2}) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${linearIndex(64)};
  if (i >= pu(0u)) { return; }
  let slope = pf(1u);
  ${backward ? 'y[i] = select(slope, 1.0, x[i] > 0.0) * g[i];' : 'y[i] = select(slope * x[i], x[i], x[i] > 0.0);'}
}`,
});

function launchLeakyRelu(inputs: Tensor[], slope: number): Tensor {
  const y = empty(inputs[0]!.shape);
  const uniforms = new Uniforms().u32(y.size).f32(slope);
  runKernel(
    leakyReluKernel,
    { backward: inputs.length === 2 },
    { inputs, outputs: [y], uniforms, workgroups: grid1d(y.size, 64) },
  );
  return y;
}

/** max(x, 0) + slope * min(x, 0), differentiable. */
const leakyRelu = defineOp({
  name: 'leakyRelu',
  forward: (ctx, x: Tensor, slope: number) => {
    ctx.save(x);
    ctx.slope = slope;
    return launchLeakyRelu([x], slope);
  },
  backward: (ctx, g) => [launchLeakyRelu([ctx.saved[0]!, g], ctx.slope as number)],
});
// ---- end of README example ----------------------------------------------------------------

const refLeaky = (slope: number) => (v: number) => (v > 0 ? v : slope * v);

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});

describe('a custom op through the extension API', () => {
  it('forward matches the reference at an awkward size', async () => {
    const x = randomArr([7, 33], seedFor('leaky'), { minAbs: 0.05 });
    expectClose(
      await download(leakyRelu(upload(x), 0.1)),
      mapArr(x, refLeaky(0.1)),
      { rtol: 1e-6, atol: 0 },
      'leakyRelu',
    );
  });

  it('backward passes a gradient check and composes with core ops', async () => {
    const x = randomArr([5, 9], seedFor('leaky-grad'), { minAbs: 0.1 });
    await gradCheck({
      label: 'leakyRelu',
      seed: seedFor('leaky-grad'),
      inputs: [x],
      gpu: ([a]) => T.exp(leakyRelu(T.mul(a!, 2), 0.2)),
      ref: ([a]) => mapArr(a!, (v) => Math.exp(refLeaky(0.2)(2 * v))),
    });
  });

  it('records no graph without requiresGrad or under noGrad', () => {
    const x = T.ones([4]);
    expect(leakyRelu(x, 0.1).gradFn).toBeNull();
    x.requiresGrad = true;
    expect(leakyRelu(x, 0.1).gradFn).not.toBeNull();
    expect(T.noGrad(() => leakyRelu(x, 0.1)).gradFn).toBeNull();
  });
});
