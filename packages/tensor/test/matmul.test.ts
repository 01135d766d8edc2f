// Batched matmul against the float64 reference at sizes that divide no tile, all transpose
// combinations, batch broadcasting, for both kernel families ('cpu': operands staged in
// textures, or register blocks with vec4 or scalar loads from buffers, B packed into panels or
// read in place; 'gpu': workgroup tiles), with poisoned outputs. The cpu family runs three ways:
// its automatic choice, every product through textures, and every product on buffers.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/node.js';
import * as tuning from '../src/tuning.js';
import { canVec4 } from '../src/ops/matmul/matmul-kernel.js';
import { canPackB } from '../src/ops/matmul/matmul-pack.js';
import { textureTiles } from '../src/ops/matmul/matmul-texture.js';
import { refMatmul, refMatmulAbs } from './reference/matmul.js';
import { mapArr, type Arr } from './reference/ndarray.js';
import { download, expectClose, upload } from './helpers/gpu.js';
import { randomArr, seedFor } from './helpers/random.js';

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => T.setPoisonOutputs(false));
afterEach(() => {
  T.setKernelFamily(null);
  tuning.setMatmulTextures('auto');
  tuning.setTextureSubgroups('auto');
});

// (M, N, K) drawn from {1, 3, 5, 17, 31, 33, 64, 127, 130}: every value in every position,
// plus three larger products;
// K % 4 both 0 and not, and shapes where vec4 loads apply to some transposes only.
const SIZES: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 17],
  [17, 31, 33],
  [33, 17, 5],
  [5, 3, 130],
  [64, 64, 64],
  [17, 64, 64],
  [64, 5, 64],
  [127, 130, 31],
  [130, 127, 64],
  [31, 33, 127],
  [1, 64, 3],
  [64, 1, 128],
  // Under the packing threshold and vec4-aligned in every transpose.
  [20, 36, 24],
  // Larger products: several workgroups of 16x8 blocks each way, with partial blocks.
  [40, 140, 36],
  [67, 261, 20],
  [130, 300, 64],
  // Rows of whole 256-byte multiples: texture products copy A (K % 64 == 0) or B (N % 64 == 0,
  // 128+ rows so that B is staged) instead of running the stage kernel.
  [132, 128, 36],
  [68, 20, 128],
];
const TRANS: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];
const FAMILIES = ['cpu', 'gpu'] as const;
/** cpu-family texture modes: the automatic choice, textures forced, buffers forced. */
const CPU_MODES = [
  ['cpu', 'auto'],
  ['cpu', true],
  ['cpu', 'no-subgroups'],
  ['cpu', false],
  ['gpu', 'auto'],
] as const;

interface Case {
  a: Arr;
  b: Arr;
  transA: boolean;
  transB: boolean;
  want: Arr;
  scale: Arr;
  label: string;
}

function makeCase(aShape: number[], bShape: number[], transA: boolean, transB: boolean): Case {
  const a = randomArr(aShape, seedFor('mm-a', aShape, bShape, transA, transB));
  const b = randomArr(bShape, seedFor('mm-b', aShape, bShape, transA, transB));
  const K = transA ? aShape.at(-2)! : aShape.at(-1)!;
  // f32 dot products of length K: error grows like sqrt(K) times the sum of |a_k b_k|.
  const scale = mapArr(refMatmulAbs(a, b, transA, transB), (v) => 1e-6 * Math.sqrt(K) * v);
  return {
    a,
    b,
    transA,
    transB,
    want: refMatmul(a, b, transA, transB),
    scale,
    label: `[${aShape}]${transA ? 'ᵀ' : ''} · [${bShape}]${transB ? 'ᵀ' : ''}`,
  };
}

function shapesFor(M: number, N: number, K: number, transA: boolean, transB: boolean): [number[], number[]] {
  return [transA ? [K, M] : [M, K], transB ? [N, K] : [K, N]];
}

// Reference products are computed once and shared by both families.
const CASES: Case[] = SIZES.flatMap(([M, N, K]) =>
  TRANS.map(([ta, tb]) => makeCase(...shapesFor(M, N, K, ta, tb), ta, tb)),
);

/** Texture modes: 'no-subgroups' forces textures with A fetched by every lane (no broadcast). */
async function runCases(
  cases: Case[],
  family: 'cpu' | 'gpu',
  tag: string,
  textures: boolean | 'auto' | 'no-subgroups' = 'auto',
): Promise<void> {
  T.setKernelFamily(family);
  tuning.setMatmulTextures(textures === 'no-subgroups' ? true : textures);
  tuning.setTextureSubgroups(textures === 'no-subgroups' ? false : 'auto');
  // Record every product first, then read: one submit for the lot.
  const outs = cases.map((c) => T.matmul(upload(c.a), upload(c.b), { transA: c.transA, transB: c.transB }));
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i]!;
    expectClose(
      await download(outs[i]!),
      c.want,
      { rtol: 0, atol: 1e-6, scale: c.scale },
      `${tag} ${family} (textures ${textures}) ${c.label}`,
    );
  }
}

describe('matmul against the reference', () => {
  it('the size list reaches every cpu route (textures; packed B, vec4 in place, scalar on buffers) in every transpose combination', () => {
    T.setKernelFamily('cpu');
    for (const [ta, tb] of TRANS) {
      expect(
        SIZES.map(([M, N, K]) => tuning.matmulRoute(M, N, K, 1, ta, tb)),
        `transA=${ta} transB=${tb}`,
      ).toContain('texture');
      tuning.setMatmulTextures(false);
      const route = SIZES.map(([M, N, K]) => tuning.matmulRoute(M, N, K, 1, ta, tb));
      tuning.setMatmulTextures('auto');
      const { tm, tn, wy } = tuning.getMatmulTiles('cpu', 64, 64);
      expect(route.includes('packed')).toBe(SIZES.some(([M, , K]) => canPackB(M, K, ta, tm, tn, wy)));
      for (const r of ['packed', 'vec4', 'scalar']) expect(route, `transA=${ta} transB=${tb}`).toContain(r);
      expect(canVec4(64, 64, 64, ta, tb, 16, 8)).toBe(true);
    }
  });

  it('texture products read B in place (transposed or not) when they have few rows, and stage it otherwise; C is stored as vec4s where N % 4 == 0', () => {
    T.setKernelFamily('cpu');
    expect(tuning.matmulRoute(32, 3136, 128, 16)).toBe('texture');
    expect(tuning.matmulRoute(1024, 1024, 1024)).toBe('texture');
    expect(textureTiles(32, 784, 128, false).bBuffer).toBe(true);
    expect(textureTiles(32, 3136, 128, false).bBuffer).toBe(false); // rows of whole 256 bytes: copied
    expect(textureTiles(32, 3136, 128, true)).toMatchObject({ bBuffer: true, bTrans: true }); // read along k
    expect(textureTiles(32, 3136, 130, true).bBuffer).toBe(false); // K % 4 != 0: staged
    expect(textureTiles(1024, 1024, 1024, false).bBuffer).toBe(false);
    // The size list runs both ways when textures are forced.
    const paths = CASES.map((c) => {
      const t = textureTiles(
        c.want.shape.at(-2)!,
        c.want.shape.at(-1)!,
        c.transA ? c.a.shape.at(-2)! : c.a.shape.at(-1)!,
        c.transB,
      );
      return t.bBuffer ? (t.bTrans ? 'in place, transposed' : 'in place') : 'staged';
    });
    for (const p of ['in place, transposed', 'in place', 'staged']) expect(paths).toContain(p);
    // C as vec4s where N % 4 == 0; the size list has both kinds.
    expect(textureTiles(32, 784, 128, false).vec4Out).toBe(true);
    expect(textureTiles(32, 783, 128, false).vec4Out).toBeUndefined();
    const stores = CASES.map(
      (c) =>
        textureTiles(
          c.want.shape.at(-2)!,
          c.want.shape.at(-1)!,
          c.transA ? c.a.shape.at(-2)! : c.a.shape.at(-1)!,
          c.transB,
        ).vec4Out === true,
    );
    expect(stores).toContain(true);
    expect(stores).toContain(false);
    // Too small to pay for staging: buffers.
    expect(tuning.matmulRoute(8, 8, 8)).not.toBe('texture');
  });

  it('texture products broadcast A across the lanes where subgroups hold the 8 lanes, in blocks of 32, 16 or 8 rows', () => {
    T.setKernelFamily('cpu');
    const tiles = (M: number) => textureTiles(M, 1024, 1024, false);
    if (T.deviceInfo().subgroupMinSize < 8) {
      expect(tiles(1024).subgroupA).toBeUndefined();
      return;
    }
    expect(tiles(1024)).toMatchObject({ tm: 32, tn: 8, wx: 8, subgroupA: true });
    expect([tiles(130).tm, tiles(67).tm, tiles(4).subgroupA]).toEqual([16, 8, undefined]); // padding at most 1/8 of the rows
    const rows = new Set(
      CASES.map((c) => textureTiles(c.want.shape.at(-2)!, c.want.shape.at(-1)!, 8, c.transB))
        .filter((t) => t.subgroupA)
        .map((t) => t.tm),
    );
    expect([...rows].sort((a, b) => a - b)).toEqual([8, 16, 32]);
    tuning.setTextureSubgroups(false);
    expect(tiles(1024)).toMatchObject({ tm: 16, tn: 16 });
    expect(tiles(1024).subgroupA).toBeUndefined();
  });

  it('matmulSumBatch: Σ over the batch of the products, one product (entry by entry in the texture and gpu kernels), elsewhere summed; transposes, awkward and vec4 sizes, an affine B', async () => {
    // [nb, M, N, K, transA, transB, affine]: K % 4 == 0 stages vec4s without straddling two entries.
    const shapes: [number, number, number, number, boolean, boolean, boolean][] = [
      [4, 130, 37, 49, false, true, true], // DenseNet block 4's 1x1 weight gradient, BN-ReLU in B
      [3, 33, 70, 196, false, true, false],
      [2, 20, 150, 17, false, false, false],
      [3, 68, 36, 21, true, false, false],
      [2, 40, 41, 36, true, true, true],
      [5, 64, 148, 12, false, true, false],
    ];
    for (const [family, textures] of [
      ['cpu', true],
      ['cpu', false],
      ['gpu', 'auto'],
    ] as const) {
      T.setKernelFamily(family);
      tuning.setMatmulTextures(textures);
      for (const [nb, M, N, K, ta, tb, affine] of shapes) {
        const sa = ta ? [nb, K, M] : [nb, M, K];
        const sb = tb ? [nb, N, K] : [nb, K, N];
        const a = randomArr(sa, seedFor('sumb-a', sa, sb));
        const b = randomArr(sb, seedFor('sumb-b', sa, sb));
        const rows = sb[1]!;
        const coef = randomArr([rows, 4], seedFor('sumb-c', sa, sb));
        const cols = sb[2]!;
        const mapped = !affine
          ? b
          : {
              ...b,
              data: b.data.map((v, j) => {
                const r = Math.floor(j / cols) % rows;
                return Math.max(v * coef.data[4 * r + 2]! + coef.data[4 * r + 3]!, 0);
              }),
            };
        const per = refMatmul(a, mapped, ta, tb);
        const absPer = refMatmulAbs(a, mapped, ta, tb);
        const want = { shape: [M, N], data: new Float64Array(M * N) } as Arr;
        const scale = { shape: [M, N], data: new Float64Array(M * N) } as Arr;
        for (let e = 0; e < nb; e++)
          for (let i = 0; i < M * N; i++) {
            want.data[i] += per.data[e * M * N + i]!;
            scale.data[i] += 1e-6 * Math.sqrt(nb * K) * absPer.data[e * M * N + i]! + 1e-7;
          }
        const label = `${family} textures ${textures}: ${nb} x [${sa.slice(1)}]${ta ? 'ᵀ' : ''} · [${sb.slice(1)}]${tb ? 'ᵀ' : ''}${affine ? ', affine B' : ''}`;
        const p = await T.profileKernels(() =>
          T.matmulSumBatch(upload(a), upload(b), ta, tb, affine ? { coef: upload(coef), relu: true } : null).data(),
        );
        expectClose(
          { shape: [M, N], data: Float64Array.from(p.result) } as Arr,
          want,
          { rtol: 0, atol: 1e-6, scale },
          label,
        );
        const dispatches = (name: string) => p.kernels.find((k) => k.name === name)?.dispatches ?? 0;
        if (textures === true) expect(dispatches('matmul-texture'), label).toBe(1);
        if (family === 'gpu') expect(dispatches('matmul'), label).toBe(1);
        expect(dispatches('reduce'), label).toBe(textures === false ? 1 : 0);
      }
    }
    expect(() => T.matmulSumBatch(T.zeros([2, 3, 4]), T.zeros([3, 4, 5]))).toThrow(/same nb/);
  });

  it('matmulSharedWeightGrads: wᵀ · gy and Σ gy · map(x)ᵀ, gy staged once on the texture route; shapes it takes and shapes that fall back', async () => {
    // [nb, M, K, N, affine]: w [M, K] shared, x [nb, K, N], gy [nb, M, N].
    const shapes: [number, number, number, number, boolean][] = [
      [4, 128, 130, 49, true], // DenseNet block 4's 1x1 conv, BN-ReLU in x
      [2, 32, 40, 196, true],
      [2, 64, 64, 64, false], // gy's rows of whole 256-byte multiples: copied, not staged
      [3, 20, 33, 17, false], // the two products pad M differently: two products apart
      [2, 3, 5, 7, true], // too small for textures
    ];
    for (const [family, textures] of [
      ['cpu', true],
      ['cpu', 'auto'],
      ['cpu', false],
      ['gpu', 'auto'],
    ] as const) {
      T.setKernelFamily(family);
      tuning.setMatmulTextures(textures);
      for (const [nb, M, K, N, affine] of shapes) {
        const seed = (what: string) => seedFor(`shared-${what}`, [nb, M], [K, N]);
        const w = randomArr([M, K], seed('w'));
        const x = randomArr([nb, K, N], seed('x'));
        const gy = randomArr([nb, M, N], seed('gy'));
        const coef = randomArr([K, 4], seed('c'));
        const mapped = !affine
          ? x
          : {
              ...x,
              data: x.data.map((v, j) => {
                const r = Math.floor(j / N) % K;
                return Math.max(v * coef.data[4 * r + 2]! + coef.data[4 * r + 3]!, 0);
              }),
            };
        const wRep = {
          shape: [nb, M, K],
          data: Float64Array.from({ length: nb * M * K }, (_, j) => w.data[j % (M * K)]!),
        } as Arr;
        const wantDx = refMatmul(wRep, gy, true, false);
        const dxScale = mapArr(refMatmulAbs(wRep, gy, true, false), (v) => 1e-6 * Math.sqrt(M) * v + 1e-7);
        const per = refMatmul(gy, mapped, false, true);
        const perAbs = refMatmulAbs(gy, mapped, false, true);
        const wantDw = { shape: [M, K], data: new Float64Array(M * K) } as Arr;
        const dwScale = { shape: [M, K], data: new Float64Array(M * K) } as Arr;
        for (let e = 0; e < nb; e++)
          for (let i = 0; i < M * K; i++) {
            wantDw.data[i] += per.data[e * M * K + i]!;
            dwScale.data[i] += 1e-6 * Math.sqrt(nb * N) * perAbs.data[e * M * K + i]! + 1e-7;
          }
        const label = `${family} textures ${textures}: ${nb} x [${M}, ${K}] · [${K}, ${N}]${affine ? ', affine x' : ''}`;
        const p = await T.profileKernels(async () => {
          const { dx, dw } = T.matmulSharedWeightGrads(
            upload(w),
            upload(x),
            upload(gy),
            affine ? { coef: upload(coef), relu: true } : null,
          );
          return [await dx.data(), await dw!.data()];
        });
        const [dx, dw] = p.result;
        expectClose(
          { shape: [nb, K, N], data: Float64Array.from(dx!) } as Arr,
          wantDx,
          { rtol: 0, atol: 1e-6, scale: dxScale },
          `${label}: dx`,
        );
        expectClose(
          { shape: [M, K], data: Float64Array.from(dw!) } as Arr,
          wantDw,
          { rtol: 0, atol: 1e-6, scale: dwScale },
          `${label}: dw`,
        );
        // Where gy is staged once: two products, and at most three stage dispatches (gy, map(x)ᵀ, wᵀ).
        const dispatches = (name: string) => p.kernels.find((k) => k.name === name)?.dispatches ?? 0;
        if (textures === true && M % 32 === 0) {
          expect(dispatches('matmul-texture'), label).toBe(2);
          expect(dispatches('matmul-stage'), label).toBe(N % 64 === 0 ? 2 : 3);
        }
      }
      // Without the weight's gradient: the data gradient alone.
      const w = T.randn([32, 40], { seed: 5 });
      const { dx, dw } = T.matmulSharedWeightGrads(
        w,
        T.randn([2, 40, 9], { seed: 6 }),
        T.randn([2, 32, 9], { seed: 7 }),
        null,
        false,
      );
      expect(dw).toBeNull();
      expect(dx.shape).toEqual([2, 40, 9]);
    }
    expect(() => T.matmulSharedWeightGrads(T.zeros([3, 4]), T.zeros([2, 5, 6]), T.zeros([2, 3, 6]), null)).toThrow(
      /w \[M, K\]/,
    );
  });

  for (const [family, textures] of CPU_MODES) {
    const name = family === 'gpu' ? 'gpu kernels' : `cpu kernels (textures ${textures})`;
    // The gpu family compiles a kernel per size class, transpose and alignment: minutes on
    // lavapipe with a cold shader cache, seconds once Mesa has cached them.
    it(`${name}: awkward sizes, all transposes`, { timeout: 600_000 }, async () => {
      await runCases(CASES, family, 'sizes', textures);
    });

    it(`${name}: batch broadcasting`, async () => {
      const shapes: [number[], number[]][] = [
        [
          [2, 1, 5, 7],
          [3, 7, 4],
        ],
        [
          [5, 7],
          [4, 7, 3],
        ],
        [
          [3, 5, 7],
          [3, 7, 4],
        ],
        [
          [2, 3, 5, 8],
          [8, 4],
        ],
        [
          [1, 3, 9, 6],
          [2, 1, 6, 5],
        ],
        // Enough rows for packed B panels: B shared by the batch (packed once), B per entry,
        // and a partial broadcast of both.
        [
          [2, 68, 12],
          [12, 70],
        ],
        [
          [3, 64, 8],
          [3, 8, 36],
        ],
        [
          [2, 1, 64, 8],
          [3, 8, 5],
        ],
        // Texture copies per batch entry (68 rows padded to 80) and of a whole batch at once.
        [
          [2, 68, 64],
          [2, 64, 20],
        ],
        [
          [2, 128, 8],
          [2, 8, 192],
        ],
      ];
      const cases = shapes.flatMap(([sa, sb]) =>
        TRANS.map(([ta, tb]) => {
          const swap = (s: number[], t: boolean) => (t ? [...s.slice(0, -2), s.at(-1)!, s.at(-2)!] : s);
          return makeCase(swap(sa, ta), swap(sb, tb), ta, tb);
        }),
      );
      await runCases(cases, family, 'batch', textures);
    });
  }

  for (const [family, textures] of CPU_MODES) {
    const name = family === 'gpu' ? 'gpu kernels' : `cpu kernels (textures ${textures})`;
    it(`${name}: B mapped by a per-row affine map and ReLU (bAffine) as the texture route stages it or the gpu kernel reads its tiles, or by elementwise passes`, async () => {
      T.setKernelFamily(family);
      tuning.setMatmulTextures(textures === 'no-subgroups' ? true : textures);
      tuning.setTextureSubgroups(textures === 'no-subgroups' ? false : 'auto');
      // Every size and transpose of B, plus batches; stored rows of B = its K (NN) or N (NT).
      const shapes: [number[], number[], boolean][] = [
        ...SIZES.flatMap(([M, N, K]) => [
          [[M, K], [K, N], false] as [number[], number[], boolean],
          [[M, K], [N, K], true] as [number[], number[], boolean],
        ]),
        [[4, 128, 36], [4, 36, 196], false],
        [[4, 128, 196], [4, 64, 196], true],
        [[128, 36], [4, 36, 196], false],
      ];
      const routes = new Set<boolean>();
      const outs: { got: T.Tensor; want: Arr; scale: Arr; label: string }[] = [];
      for (const [i, [sa, sb, tb]] of shapes.entries()) {
        const relu = i % 3 !== 2;
        const a = randomArr(sa, seedFor('aff-a', sa, sb, tb));
        const b = randomArr(sb, seedFor('aff-b', sa, sb, tb));
        const rows = sb.at(-2)!;
        const coef = randomArr([rows, 4], seedFor('aff-c', sa, sb, tb));
        const cols = sb.at(-1)!;
        const mapped = {
          ...b,
          data: b.data.map((v, j) => {
            const r = Math.floor(j / cols) % rows;
            const y = v * coef.data[4 * r + 2]! + coef.data[4 * r + 3]!;
            return relu ? Math.max(y, 0) : y;
          }),
        };
        const K = tb ? sb.at(-1)! : sb.at(-2)!;
        const M = sa.at(-2)!;
        const N = tb ? sb.at(-2)! : sb.at(-1)!;
        const nb = Math.max(sa.length > 2 ? sa[0]! : 1, sb.length > 2 ? sb[0]! : 1);
        routes.add(T.stagesBAffine(M, N, K, nb, tb, [sa.length > 2 ? nb : 1, sb.length > 2 ? nb : 1]));
        const got = T.matmulRaw(upload(a), upload(b), false, tb, { coef: upload(coef), relu });
        const scale = mapArr(refMatmulAbs(a, mapped, false, tb), (v) => 1e-6 * Math.sqrt(K) * v + 1e-7);
        outs.push({
          got,
          want: refMatmul(a, mapped, false, tb),
          scale,
          label: `[${sa}] · [${sb}]${tb ? 'ᵀ' : ''} relu ${relu}`,
        });
      }
      for (const o of outs)
        expectClose(
          await download(o.got),
          o.want,
          { rtol: 0, atol: 1e-6, scale: o.scale },
          `${name} bAffine ${o.label}`,
        );
      // Mapped as B is read: every gpu product; on the cpu family every product when textures are
      // forced, some automatically, none without.
      const mapped = family === 'gpu' || textures === true || textures === 'no-subgroups';
      expect([...routes].sort()).toEqual(textures === false ? [false] : mapped ? [true] : [false, true]);
    });
  }

  it('texture products stay correct when every scratch texture is evicted as soon as another is made', async () => {
    const scratch = T.getEngine().scratch;
    const cap = scratch.capBytes;
    try {
      // Cap 0: each product's B texture retires its A texture, and the next product's A
      // texture retires that B, all before the commands that read them are submitted.
      scratch.capBytes = 0;
      await runCases(
        CASES.filter((_, i) => i % 2 === 0),
        'cpu',
        'evicting',
        true,
      );
      expect(scratch.count).toBe(1);
    } finally {
      scratch.capBytes = cap;
    }
  });

  it('odd register-block tiles and 2-D workgroups on the cpu family', async () => {
    try {
      tuning.setMatmulTiles('cpu', { tm: 3, tn: 5, wx: 4, wy: 4 });
      await runCases(
        CASES.filter((_, i) => i % 3 === 0),
        'cpu',
        'tiles 3x5',
      );
      tuning.setMatmulTiles('cpu', { tm: 4, tn: 8, wx: 8, wy: 8 });
      await runCases(
        CASES.filter((_, i) => i % 3 === 1),
        'cpu',
        'tiles 4x8 in 8x8 workgroups',
      );
      tuning.setMatmulTiles('cpu', null);
      tuning.setMatmulTiles('cpu', { tm: 16, tn: 8, wx: 8, wy: 1, packB: false });
      await runCases(
        CASES.filter((_, i) => i % 3 === 2),
        'cpu',
        '16x8 with B read in place',
      );
    } finally {
      tuning.setMatmulTiles('cpu', null);
    }
  });

  it('the gpu family sorts products into size classes and splits K where too few output tiles would fill the device', () => {
    T.setKernelFamily('gpu');
    const plan = (M: number, N: number, K: number, nb = 1) => tuning.matmulGpuPlan(M, N, K, nb);
    expect(
      [
        plan(256, 256, 256),
        plan(1024, 1024, 1024),
        plan(4096, 4096, 4096),
        plan(10, 4096, 4096),
        plan(3136, 32, 128),
      ].map((p) => p.sizeClass),
    ).toEqual(['small', 'mid', 'large', 'short', 'narrow']);
    expect(plan(4096, 4096, 4096).tiles).toMatchObject({ tm: 8, tn: 4, wx: 16, wy: 16 }); // 128x64, 256 threads
    expect([plan(12544, 256, 128).sizeClass, plan(12544, 256, 257).sizeClass]).toEqual(['shallow', 'mid']);
    // 10x4096x4096: 64 output tiles, so K goes in chunks of at least 256 (a multiple of bk).
    const skinny = plan(10, 4096, 4096);
    expect(skinny.splits).toBeGreaterThan(1);
    expect(skinny.chunk % skinny.tiles.bk).toBe(0);
    expect(skinny.chunk * skinny.splits).toBeGreaterThanOrEqual(4096);
    expect(skinny.chunk * (skinny.splits - 1)).toBeLessThan(4096);
    expect(plan(10, 4096, 300).splits).toBe(1); // K too short to split
    expect(plan(4096, 4096, 4096).splits).toBe(1);
    expect(plan(3136, 128, 1024).splits).toBeGreaterThan(1); // 98 tiles of 64x64
    // Pinned tiles and a custom table row take effect.
    try {
      tuning.setGpuTileTable({ short: { tiles: { tm: 4, tn: 8, wx: 8, wy: 2, bk: 8 }, splitBelow: 0 } });
      expect(plan(10, 4096, 4096)).toMatchObject({
        sizeClass: 'short',
        tiles: { tm: 4, tn: 8, wx: 8, wy: 2, bk: 8 },
        splits: 1,
      });
      tuning.setMatmulTiles('gpu', { tm: 4, tn: 4, wx: 4, wy: 4, splits: 3 });
      expect(plan(8, 8, 100)).toMatchObject({ sizeClass: 'pinned', splits: 3, chunk: 48 });
    } finally {
      tuning.setGpuTileTable(null);
      tuning.setMatmulTiles('gpu', null);
    }
    expect(tuning.getGpuTileTable().short.tiles.bk).toBe(16);
  });

  // Every tile configuration of the gpu table (and odd ones: 8x8 per thread, a k step of 8 with
  // fewer staging units than threads), each on part of the size list in all four transposes.
  const gpuConfigs: [string, Partial<tuning.GpuTiles> & { splits?: number }][] = [
    // Each distinct shape of the table once (the automatic choice runs the small row above).
    ...tuning.GPU_SIZE_CLASSES.map(
      (c) => [`table row ${c}`, tuning.getGpuTileTable()[c].tiles] as [string, tuning.GpuTiles],
    ).filter(
      ([, t], i, all) =>
        JSON.stringify(t) !== JSON.stringify(tuning.getGpuTileTable().small.tiles) &&
        all.findIndex(([, u]) => JSON.stringify(u) === JSON.stringify(t)) === i,
    ),
    ['8x8 in 16x16', { tm: 8, tn: 8, wx: 16, wy: 16, bk: 16 }],
    ['4x8 in 8x4, k steps of 8', { tm: 4, tn: 8, wx: 8, wy: 4, bk: 8 }],
  ];
  for (const [i, [label, tiles]] of gpuConfigs.entries())
    it(`the gpu family in tiles ${label} (${tiles.tm}x${tiles.tn} per thread in ${tiles.wx}x${tiles.wy})`, async () => {
      try {
        tuning.setMatmulTiles('gpu', tiles);
        await runCases(
          CASES.filter((_, j) => j % gpuConfigs.length === i),
          'gpu',
          label,
        );
      } finally {
        tuning.setMatmulTiles('gpu', null);
      }
    });

  it('the gpu family split over K: chunks that do not divide K, a batch, shared operands, all transposes, automatic and pinned', async () => {
    T.setKernelFamily('gpu');
    const shapes: [number[], number[]][] = [
      [
        [3, 1000],
        [1000, 67],
      ], // short class: 2 output tiles
      [
        [2, 5, 777],
        [2, 777, 9],
      ], // a batch of two, K not a multiple of 4
      [
        [67, 600],
        [3, 600, 5],
      ], // A shared by the batch
    ];
    const cases = shapes.flatMap(([sa, sb]) =>
      TRANS.map(([ta, tb]) => {
        const swap = (sh: number[], t: boolean) => (t ? [...sh.slice(0, -2), sh.at(-1)!, sh.at(-2)!] : sh);
        return makeCase(swap(sa, ta), swap(sb, tb), ta, tb);
      }),
    );
    expect(tuning.matmulGpuPlan(3, 67, 1000).splits).toBeGreaterThan(1);
    expect(tuning.matmulGpuPlan(5, 9, 777, 2).splits).toBeGreaterThan(1);
    await runCases(cases, 'gpu', 'split-K');
    try {
      tuning.setMatmulTiles('gpu', { tm: 4, tn: 4, wx: 8, wy: 8, bk: 16, splits: 5 });
      await runCases(
        cases.filter((_, j) => j % 2 === 0),
        'gpu',
        'split-K pinned',
      );
    } finally {
      tuning.setMatmulTiles('gpu', null);
    }
  });

  it('the gpu family routes shallow and mid products to their table rows', async () => {
    T.setKernelFamily('gpu');
    // Outputs past 2^18: shallow with K <= 256, mid above (large, past 2^22 outputs, runs its
    // tiles pinned above: at a long K its reference would be slow).
    expect([tuning.matmulGpuPlan(513, 517, 6).sizeClass, tuning.matmulGpuPlan(513, 517, 260).sizeClass]).toEqual([
      'shallow',
      'mid',
    ]);
    await runCases(
      [makeCase([513, 6], [6, 517], false, false), makeCase([260, 513], [517, 260], true, true)],
      'gpu',
      'classes',
    );
  });
});

describe('matmul edge cases', () => {
  it('K = 0 gives zeros; M = 0 gives an empty result', async () => {
    for (const family of FAMILIES) {
      T.setKernelFamily(family);
      const z = T.matmul(T.empty([3, 0]), T.empty([0, 4]));
      expect(z.shape).toEqual([3, 4]);
      expect(Array.from(await z.data())).toEqual(new Array(12).fill(0));
      const e = T.matmul(T.ones([0, 5]), T.ones([5, 3]));
      expect(e.shape).toEqual([0, 3]);
      expect((await e.data()).length).toBe(0);
    }
  });

  it('mismatched shapes and dtypes are rejected with the shapes in the message', () => {
    expect(() => T.matmul(T.ones([3, 4]), T.ones([5, 2]))).toThrow(/\[3, 4\].*\[5, 2\]/);
    expect(() => T.matmul(T.ones([4]), T.ones([4, 2]))).toThrow(T.ShapeError);
    expect(() => T.matmul(T.ones([2, 3, 4]), T.ones([5, 4, 2]))).toThrow(T.ShapeError);
    expect(() => T.matmul(T.ones([2, 2], 'i32'), T.ones([2, 2], 'i32'))).toThrow(T.TensorError);
  });
});
