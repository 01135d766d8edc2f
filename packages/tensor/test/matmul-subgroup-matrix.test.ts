// The subgroup-matrix matmul's WGSL, checked as text: this machine's adapter has no subgroup
// matrices, so the generated kernel is run by a small interpreter of its lets, loop, loads,
// multiply-accumulates and stores (the builtins' documented semantics: row_major puts element
// (r, c) at offset + r·stride + c, col_major at offset + c·stride + r; the matrix types list
// columns before rows), over every workgroup, against a float64 matmul. On a GPU with the
// feature, the kernel itself runs (skipped here).
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/node.js';
import {
  chooseSubgroupMatrixConfig,
  matmulSubgroupMatrixFits,
  subgroupMatrixGrid,
  subgroupMatrixSource,
  type SubgroupMatrixOptions,
} from '../src/ops/matmul/matmul-subgroup-matrix.js';
import { matmulSubgroupMatrixRoute } from '../src/ops/matmul/matmul.js';
import {
  CHECK_SIZE,
  CHECK_TOLERANCE,
  decideSubgroupMatrices,
  type SubgroupMatrixFacts,
} from '../src/ops/matmul/subgroup-matrix-check.js';
import { refMatmul } from './reference/matmul.js';
import { randomArr, seedFor } from './helpers/random.js';
import { expectClose } from './helpers/gpu.js';

type Env = Record<string, number>;
type Matrix = { rows: number; cols: number; v: Float64Array };

/** A WGSL u32 expression of the generated kernel as a JS function of the variables in scope. */
function evaluate(expr: string, env: Env, uniforms: number[], wid: number[]): number {
  const js = expr
    .replace(/pu\((\d+)u\)/g, (_, i) => `U[${i}]`)
    .replace(/wid\.([xyz])/g, (_, c) => `W[${'xyz'.indexOf(c)}]`)
    .replace(/(\d+)u\b/g, '$1');
  const names = Object.keys(env);
  return Function('U', 'W', ...names, `return (${js});`)(uniforms, wid, ...names.map((k) => env[k]));
}

/** Run the kernel text for one workgroup. */
function runWorkgroup(src: string, uniforms: number[], wid: number[], buffers: Record<string, Float64Array>): void {
  const body = src.slice(src.indexOf('fn main'));
  const env: Env = {};
  const header = /\n\s*for \(var k0 = 0u; k0 < K; k0 \+= (\d+)u\) \{\n/.exec(body)!;
  const step = Number(header[1]);
  const head = body.slice(0, header.index);
  const afterHeader = body.slice(header.index + header[0].length);
  const end = afterHeader.indexOf('\n  }\n');
  const loopBody = afterHeader.slice(0, end);
  const tail = afterHeader.slice(end + 4);
  const acc: Record<string, Matrix> = {};
  for (const stmt of head.split(/;\s*/)) {
    const let_ = /let (\w+) = (.+)$/.exec(stmt.trim());
    if (let_) env[let_[1]!] = evaluate(let_[2]!, env, uniforms, wid);
    const v = /var (acc_\d+_\d+) = subgroup_matrix_result<\w+, (\d+), (\d+)>\(\)/.exec(stmt.trim());
    if (v) acc[v[1]!] = { cols: Number(v[2]), rows: Number(v[3]), v: new Float64Array(Number(v[2]) * Number(v[3])) };
  }
  const tiles: Record<string, Matrix> = {};
  for (let k0 = 0; k0 < env.K!; k0 += step) {
    const scope = { ...env, k0 };
    for (const line of loopBody.split('\n').map((l) => l.trim())) {
      const load =
        /let (\w+) = subgroupMatrixLoad<subgroup_matrix_(?:left|right)<\w+, (\d+), (\d+)>, (row_major|col_major)>\(&(\w), (.+), (.+)\);/.exec(
          line,
        );
      if (load) {
        const [, name, cols, rows, major, buf, off, stride] = load;
        const o = evaluate(off!, scope, uniforms, wid);
        const s = evaluate(stride!, scope, uniforms, wid);
        const m: Matrix = { rows: Number(rows), cols: Number(cols), v: new Float64Array(Number(rows) * Number(cols)) };
        for (let r = 0; r < m.rows; r++)
          for (let c = 0; c < m.cols; c++)
            m.v[r * m.cols + c] = buffers[buf!]![major === 'row_major' ? o + r * s + c : o + c * s + r]!;
        tiles[name!] = m;
        continue;
      }
      const mma = /(acc_\d+_\d+) = subgroupMatrixMultiplyAccumulate\((\w+), (\w+), (acc_\d+_\d+)\);/.exec(line);
      if (mma) {
        const [, out, a, b] = mma;
        const [l, r, d] = [tiles[a!]!, tiles[b!]!, acc[out!]!];
        expect([l.cols, l.rows, r.cols, d.rows, d.cols]).toEqual([r.rows, d.rows, d.cols, l.rows, r.cols]);
        for (let i = 0; i < d.rows; i++)
          for (let j = 0; j < d.cols; j++)
            for (let q = 0; q < l.cols; q++) d.v[i * d.cols + j] += l.v[i * l.cols + q]! * r.v[q * r.cols + j]!;
        continue;
      }
      if (line) throw new Error(`unknown loop statement: ${line}`);
    }
  }
  for (const line of tail.split('\n').map((l) => l.trim())) {
    const store = /subgroupMatrixStore<row_major>\(&C, (.+), (acc_\d+_\d+), (.+)\);/.exec(line);
    if (!store) continue;
    const o = evaluate(store[1]!, env, uniforms, wid);
    const s = evaluate(store[3]!, env, uniforms, wid);
    const m = acc[store[2]!]!;
    for (let r = 0; r < m.rows; r++) for (let c = 0; c < m.cols; c++) buffers.C![o + r * s + c] = m.v[r * m.cols + c]!;
  }
}

describe('subgroup-matrix matmul', () => {
  it('takes the largest f16 -> f32 configuration, never an f16 -> f16 one, and none on lavapipe', () => {
    const configs = [
      { componentType: 'f16', resultComponentType: 'f16', M: 16, N: 16, K: 32 },
      { componentType: 'f16', resultComponentType: 'f32', M: 8, N: 8, K: 8 },
      { componentType: 'f16', resultComponentType: 'f32', M: 16, N: 16, K: 16 },
      { componentType: 'f32', resultComponentType: 'f32', M: 8, N: 8, K: 8 },
      { componentType: 'u8', resultComponentType: 'u32', M: 16, N: 16, K: 32 },
    ];
    expect(chooseSubgroupMatrixConfig(configs, 'f16')).toMatchObject({ M: 16, N: 16, K: 16 });
    expect(chooseSubgroupMatrixConfig(configs, 'f32')).toMatchObject({ M: 8, N: 8, K: 8 });
    expect(chooseSubgroupMatrixConfig(configs.slice(0, 1), 'f16')).toBeNull();
    expect(chooseSubgroupMatrixConfig([], 'f16')).toBeNull();
  });

  for (const [m, n, k] of [
    [16, 16, 16],
    [8, 16, 16],
    [8, 8, 8],
  ] as const) {
    for (const [transA, transB] of [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ] as const) {
      it(`${m}x${n}x${k} tiles, 2x3 per subgroup, A${transA ? 'ᵀ' : ''}·B${transB ? 'ᵀ' : ''}, a batch of 2: the text computes the product`, () => {
        const o: SubgroupMatrixOptions = {
          component: 'f16',
          result: 'f32',
          m,
          n,
          k,
          tm: 2,
          tn: 3,
          transA,
          transB,
          subgroupSize: 32,
        };
        const src = subgroupMatrixSource(o);
        expect(src.startsWith('enable f16;\nenable subgroups;\nenable chromium_experimental_subgroup_matrix;')).toBe(
          true,
        );
        expect(src).toContain('@compute @workgroup_size(32)');
        const [M, N, K, nb] = [4 * m, 2 * 3 * n, 3 * k, 2];
        expect(matmulSubgroupMatrixFits(M, N, K, o)).toBe(true);
        expect(matmulSubgroupMatrixFits(M + 1, N, K, o)).toBe(false);
        const aShape = transA ? [nb, K, M] : [nb, M, K];
        const bShape = transB ? [nb, N, K] : [nb, K, N];
        const a = randomArr(aShape, seedFor('sgm-a', m, n, k, transA, transB));
        const b = randomArr(bShape, seedFor('sgm-b', m, n, k, transA, transB));
        const buffers = { A: a.data, B: b.data, C: new Float64Array(nb * M * N).fill(NaN) };
        const uniforms = [M, N, K, M * K, K * N, M * N];
        const [gx, gy, gz] = subgroupMatrixGrid(M, N, nb, o);
        for (let z = 0; z < gz; z++)
          for (let y = 0; y < gy; y++) for (let x = 0; x < gx; x++) runWorkgroup(src, uniforms, [x, y, z], buffers);
        expectClose(
          { shape: [nb, M, N], data: buffers.C },
          refMatmul(a, b, transA, transB),
          { rtol: 1e-12, atol: 1e-12 },
          'C',
        );
      });
    }
  }
});

describe('subgroup-matrix matmul on this device', () => {
  beforeAll(async () => {
    await T.ready();
  });

  it('is routed only where the device has subgroup matrices and it is switched on', () => {
    const info = T.deviceInfo();
    const route = matmulSubgroupMatrixRoute(64, 64, 64, 'f16');
    if (!info.features.includes('chromium-experimental-subgroup-matrix')) expect(route).toBeNull();
  });
});

describe('subgroup matrices decided at ready()', () => {
  const gpu = { family: 'gpu', hasFeature: true, hasF16Config: true, unsafeApis: true } as const;
  const agree = async () => 3e-7;

  it('open only on the gpu family with the feature, an f16 configuration and a check product that agrees', async () => {
    expect(await decideSubgroupMatrices('auto', gpu, agree)).toMatchObject({ enabled: true });
    expect(await decideSubgroupMatrices(true, gpu, agree)).toMatchObject({ enabled: true });
    const off = async (setting: 'auto' | boolean, facts: SubgroupMatrixFacts, check = agree) => {
      const d = await decideSubgroupMatrices(setting, facts, check);
      expect(d.enabled).toBe(false);
      return d.detail;
    };
    expect(await off(false, gpu)).toMatch(/subgroupMatrices false/);
    expect(await off('auto', { ...gpu, hasFeature: false, unsafeApis: false })).toMatch(/allow_unsafe_apis/);
    expect(await off('auto', { ...gpu, hasFeature: false })).toMatch(/does not list [^(]*$/);
    expect(await off('auto', { ...gpu, hasF16Config: false })).toMatch(/no f16 configuration/);
    expect(await off('auto', { ...gpu, family: 'cpu' })).toMatch(/'cpu' kernel family/);
    expect(await off('auto', gpu, async () => 10 * CHECK_TOLERANCE)).toMatch(/differs/);
    expect(
      await off('auto', gpu, async () => {
        throw new Error('pipeline creation failed\nmore');
      }),
    ).toMatch(/failed \(pipeline creation failed\)$/);
  });

  it("this device's decision, and routes closed where it is off", () => {
    const status = T.subgroupMatrixStatus();
    if (!T.deviceInfo().features.includes('chromium-experimental-subgroup-matrix')) {
      expect(status.enabled).toBe(false);
      expect(status.detail).toMatch(/^off: /);
    }
    if (!status.enabled) expect(matmulSubgroupMatrixRoute(CHECK_SIZE, CHECK_SIZE, CHECK_SIZE, 'f16')).toBeNull();
  });
});
