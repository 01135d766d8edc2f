// 1x1 convolutions: the conv kernels (implicit GEMM forward and data gradient, split-K weight
// gradient; their tiles pinned so that conv2d does not route the 1x1 to the matmul itself)
// against the same products on the tensor matmul (W · x[n]; Wᵀ · gy[n]; gy[n] ·
// pixel-major x[n] summed over n), alternating in one process on DenseNet's bottleneck shapes.
// A tuning aid, not part of `npm run bench`. Build first. Usage: node bench/conv1x1-matmul-probe.mjs
// (TILES=64x32 pins the matmul's register block; the default is the automatic choice; WARM=1
// warms the tier-up's wide block first.)
import * as T from '@spine/tensor/node';
import * as tuning from '@spine/tensor/tuning';
import { conv2d } from '../dist/ops/conv-pool.js';
import { convDgrad, convGeometry, convTiles, convWgrad, setConvTiles } from '../dist/ops/conv2d/conv2d.js';

await T.ready();
if (process.env.WARM) console.log('tier-up warmed:', await tuning.warmMatmul()); // the wide block, as a long run would have
if (process.env.TILES) {
  const [tm, tn] = process.env.TILES.split('x').map(Number);
  tuning.setMatmulTiles('cpu', { tm, tn, wx: 8, wy: 1 });
}
// [N, C, H, W, OC]
const shapes = [
  [4, 128, 56, 56, 128],
  [4, 256, 56, 56, 128],
  [4, 256, 28, 28, 128],
  [4, 512, 28, 28, 128],
  [4, 768, 14, 14, 128],
  [4, 1024, 7, 7, 128],
  [4, 128, 28, 28, 32],
];

async function time(fn) {
  T.scope(() => void fn());
  await T.sync();
  const t0 = performance.now();
  T.scope(() => void fn());
  await T.sync();
  return performance.now() - t0;
}
async function relDiff(f1, f2) {
  const a = await T.scope(() => f1().keep()).data();
  const b = await T.scope(() => f2().keep()).data();
  let d = 0,
    s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(a[i]));
  }
  return d / s;
}
const median = (v) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)];

for (const [n, c, h, w, oc] of shapes) {
  const x = T.randn([n, c, h, w], { seed: 1 }).keep();
  const wt = T.randn([oc, c, 1, 1], { seed: 2 }).keep();
  const gy = T.randn([n, oc, h, w], { seed: 3 }).keep();
  const g = convGeometry(x, wt, null, {});
  // The conv kernels with their automatic tiles pinned, so that no 1x1 takes the matmul.
  const gemm = (fn) => () => {
    setConvTiles(convTiles(oc));
    try {
      return fn();
    } finally {
      setConvTiles(null);
    }
  };
  const pairs = {
    fwd: [
      gemm(() => conv2d(x, wt)),
      () => T.reshape(T.matmulRaw(T.reshape(wt, [oc, c]), T.reshape(x, [n, c, h * w])), [n, oc, h, w]),
    ],
    dgrad: [
      gemm(() => convDgrad(gy, wt, g)),
      () => T.reshape(T.matmulRaw(T.reshape(wt, [oc, c]), T.reshape(gy, [n, oc, h * w]), true), [n, c, h, w]),
    ],
    wgrad: [
      gemm(() => convWgrad(x, gy, g)),
      () =>
        T.reshape(T.sum(T.matmulRaw(T.reshape(gy, [n, oc, h * w]), T.reshape(x, [n, c, h * w]), false, true), 0), [
          oc,
          c,
          1,
          1,
        ]),
    ],
  };
  const parts = [];
  for (const [name, [ours, mm]] of Object.entries(pairs)) {
    const diff = await relDiff(ours, mm);
    const a = [],
      b = [];
    for (let r = 0; r < 3; r++) {
      a.push(await time(ours));
      b.push(await time(mm));
    }
    parts.push(
      `${name} ${median(a).toFixed(1)} -> ${median(b).toFixed(1)} ms x${(median(a) / median(b)).toFixed(2)} (diff ${diff.toExponential(1)})`,
    );
  }
  console.log(`${n}x${c}x${h}x${w}->${oc}: ${parts.join(' | ')}`);
  for (const t of [x, wt, gy]) t.dispose();
}
await T.releaseDevice();
process.exit(0);
