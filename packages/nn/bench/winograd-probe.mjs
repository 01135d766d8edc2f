// Winograd F(2x2,3x3) against the implicit GEMM on the same convolution, alternating in one
// process: max relative difference, then ms per call of each (forward, and data gradient).
// Usage: node bench/winograd-probe.mjs [N C H W OC pad]...  (build first)
import * as T from '@spine/tensor/node';
import { conv2d } from '../dist/ops/conv-pool.js';
import { convDgrad, convGeometry, setConvAlgorithm } from '../dist/ops/conv2d/conv2d.js';

await T.ready();
const args = process.argv.slice(2).map(Number);
const shapes = [];
for (let i = 0; i + 5 < args.length; i += 6) shapes.push(args.slice(i, i + 6));
if (!shapes.length)
  shapes.push(
    [4, 64, 56, 56, 64, 1],
    [4, 128, 56, 56, 32, 1],
    [4, 128, 28, 28, 32, 1],
    [32, 16, 32, 32, 32, 1],
    [32, 32, 16, 16, 32, 1],
  );

async function time(fn, reps) {
  await T.sync();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) T.scope(() => void fn());
  await T.sync();
  return (performance.now() - t0) / reps;
}
for (const [n, c, h, w, oc, p] of shapes) {
  const x = T.randn([n, c, h, w], { seed: 1 }).keep();
  const wt = T.randn([oc, c, 3, 3], { seed: 2, std: 0.1 }).keep();
  const b = T.randn([oc], { seed: 4 }).keep();
  const g = convGeometry(x, wt, b, { padding: p });
  const gy = T.randn([n, oc, g.oh, g.ow], { seed: 3 }).keep();
  const flops = 2 * n * c * oc * 9 * g.oh * g.ow;
  const diff = async (f) => {
    setConvAlgorithm('gemm');
    const a = f().keep();
    setConvAlgorithm('winograd');
    const z = f().keep();
    const [da, dz] = [await a.data(), await z.data()];
    let scale = 0,
      worst = 0;
    for (let i = 0; i < da.length; i++) {
      scale = Math.max(scale, Math.abs(da[i]));
      worst = Math.max(worst, Math.abs(da[i] - dz[i]));
    }
    a.dispose();
    z.dispose();
    return worst / scale;
  };
  const fwd = () => conv2d(x, wt, b, { padding: p });
  const dgr = () => convDgrad(gy, wt, g);
  const rF = await diff(fwd);
  const rD = await diff(dgr);
  const reps = Math.max(1, Math.round(2e8 / flops));
  const res = { gemmF: [], winoF: [], gemmD: [], winoD: [] };
  for (let round = 0; round < 4; round++) {
    setConvAlgorithm('gemm');
    res.gemmF.push(await time(fwd, reps));
    res.gemmD.push(await time(dgr, reps));
    setConvAlgorithm('winograd');
    res.winoF.push(await time(fwd, reps));
    res.winoD.push(await time(dgr, reps));
  }
  const med = (v) => v.slice(1).sort((a, b) => a - b)[1];
  const gf = (ms) => (flops / ms / 1e6).toFixed(2);
  console.log(
    `${n}x${c}x${h}x${w}->${oc} p${p}: rel diff fwd ${rF.toExponential(1)} dgrad ${rD.toExponential(1)} | fwd gemm ${med(res.gemmF).toFixed(1)} ms (${gf(med(res.gemmF))}) wino ${med(res.winoF).toFixed(1)} ms (${gf(med(res.winoF))}) x${(med(res.gemmF) / med(res.winoF)).toFixed(2)} | dgrad gemm ${med(res.gemmD).toFixed(1)} wino ${med(res.winoD).toFixed(1)} x${(med(res.gemmD) / med(res.winoD)).toFixed(2)}`,
  );
  for (const t of [x, wt, b, gy]) t.dispose();
}
await T.releaseDevice();
process.exit(0);
