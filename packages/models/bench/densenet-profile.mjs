// Where a DenseNet-121 training step's time goes, op by op: every distinct op of the network
// (conv0, pool0, each block's bottleneck concat + BN-ReLU + 1x1 conv, BN-ReLU + 3x3 conv, the
// transitions, norm5 and the head) timed alone at its real input shape, forward and
// forward + backward, then multiplied by how often the network runs it. Dense layers of a block
// differ only in input width, so each block is sampled at its first, middle and last layer and
// interpolated. Not a results suite (no peer, nothing written): a guide for optimisation.
// Run after `npm run build`: [WARM=1] node packages/models/bench/densenet-profile.mjs [size] [batch]
import * as T from '@spine/tensor/node';
import * as tuning from '@spine/tensor/tuning';
import {
  avgPool2d,
  batchNormRelu,
  conv2d,
  concatBatchNormReluConv1x1Recomputed,
  globalAvgPool2d,
  maxPool2d,
} from '@spine/nn';

await T.ready();
// WARM=1: the tier-up's wide matmul block first, as a long training run (or the benchmark) has it.
if (process.env.WARM) console.log('matmul tier-up warmed:', await tuning.warmMatmul());
const SIZE = Number(process.argv[2] ?? 224);
const N = Number(process.argv[3] ?? 4);
const REPS = 2;

const leaf = (shape, seed) => {
  const t = T.randn(shape, { seed }).keep();
  t.requiresGrad = true;
  return t;
};
const bnParams = (c) => ({ w: leaf([c], 1), b: leaf([c], 2), rm: T.zeros([c]).keep(), rv: T.ones([c]).keep() });
const kaiming = (shape, seed) => leaf(shape, seed);

/** Median ms of `fn` (forward only, or forward + backward with a ones gradient). */
async function time(fn, leaves, backward) {
  const once = async () => {
    T.scope(() => {
      const y = fn();
      if (backward) y.backward(T.onesLike(y));
    });
    for (const l of leaves) {
      l.grad?.dispose();
      l.grad = null;
    }
    await T.sync();
  };
  await once();
  const ms = [];
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now();
    await once();
    ms.push(performance.now() - t0);
  }
  return ms.sort((a, b) => a - b)[0];
}

const rows = [];
async function op(name, count, fn, leaves) {
  const fwd = await time(fn, leaves, false);
  const both = await time(fn, leaves, true);
  rows.push({ name, count, fwd, both });
  console.log(
    `${name.padEnd(52)} x${String(count).padStart(2)}  fwd ${fwd.toFixed(0).padStart(6)} ms  fwd+bwd ${both.toFixed(0).padStart(6)} ms`,
  );
}

const train = { training: true };
let hw = SIZE / 2;
{
  const x = T.randn([N, 3, SIZE, SIZE], { seed: 3 }).keep(); // the image needs no gradient
  const w = kaiming([64, 3, 7, 7], 4);
  await op(`conv0 7x7 s2 ${N}x3x${SIZE}²`, 1, () => conv2d(x, w, null, { stride: 2, padding: 3 }), [w]);
  const y = leaf([N, 64, hw, hw], 5);
  const p = bnParams(64);
  await op(`norm0+relu0 ${N}x64x${hw}²`, 1, () => batchNormRelu(y, p.w, p.b, p.rm, p.rv, train), [y, p.w, p.b]);
  await op(`pool0 max 3x3 s2 ${N}x64x${hw}²`, 1, () => maxPool2d(y, { kernel: 3, stride: 2, padding: 1 }), [y]);
  hw /= 2;
}
let c = 64;
const blocks = [6, 12, 24, 16];
for (const [bi, layers] of blocks.entries()) {
  // Sample the first, middle and last layer; interpolate the others linearly in input width.
  const samples = [...new Set([0, Math.floor(layers / 2), layers - 1])];
  const measured = [];
  for (const i of samples) {
    const cin = c + 32 * i;
    const feats = [leaf([N, c, hw, hw], 6), ...Array.from({ length: i }, (_, k) => leaf([N, 32, hw, hw], 7 + k))];
    const p1 = bnParams(cin);
    const w1 = kaiming([128, cin, 1, 1], 8);
    const bottleneck = () => {
      const cat = feats.length === 1 ? feats[0] : T.concat(feats, 1);
      return conv2d(batchNormRelu(cat, p1.w, p1.b, p1.rm, p1.rv, train), w1);
    };
    const b = leaf([N, 128, hw, hw], 9);
    const p2 = bnParams(128);
    const w2 = kaiming([32, 128, 3, 3], 10);
    const r = {};
    const t = async (name, fn, leaves) => {
      r[name] = { fwd: await time(fn, leaves, false), both: await time(fn, leaves, true) };
    };
    await t('concat', () => (feats.length === 1 ? T.mul(feats[0], 1) : T.concat(feats, 1)), feats);
    await t('bottleneck', bottleneck, [...feats, p1.w, p1.b, w1]);
    await t(
      'bottleneckEfficient',
      () =>
        concatBatchNormReluConv1x1Recomputed(
          feats,
          { normWeight: p1.w, normBias: p1.b, runningMean: p1.rm, runningVar: p1.rv, convWeight: w1 },
          train,
        ),
      [...feats, p1.w, p1.b, w1],
    );
    const a1 = leaf([N, cin, hw, hw], 11);
    await t('conv1x1', () => conv2d(a1, w1), [a1, w1]);
    await t(
      'bnrelu2+conv3x3',
      () => conv2d(batchNormRelu(b, p2.w, p2.b, p2.rm, p2.rv, train), w2, null, { padding: 1 }),
      [b, p2.w, p2.b, w2],
    );
    await t('conv3x3', () => conv2d(b, w2, null, { padding: 1 }), [b, w2]);
    for (const x of [...feats, p1.w, p1.b, p1.rm, p1.rv, w1, b, p2.w, p2.b, p2.rm, p2.rv, w2, a1]) x.dispose();
    measured.push({ i, cin, r });
    console.log(
      `block${bi + 1} layer${i + 1} (${N}x${cin}x${hw}²): ` +
        Object.entries(r)
          .map(([k, v]) => `${k} ${v.fwd.toFixed(0)}/${v.both.toFixed(0)}`)
          .join(', ') +
        ' ms (fwd/fwd+bwd)',
    );
  }
  // Sum over the block's layers by linear interpolation between samples.
  for (const key of ['concat', 'bottleneck', 'bottleneckEfficient', 'conv1x1', 'bnrelu2+conv3x3', 'conv3x3']) {
    let fwd = 0;
    let both = 0;
    for (let i = 0; i < layers; i++) {
      const hi = measured.findIndex((m) => m.i >= i);
      const a = measured[Math.max(0, hi - 1)];
      const z = measured[hi];
      const f = z.i === a.i ? 0 : (i - a.i) / (z.i - a.i);
      fwd += a.r[key].fwd + f * (z.r[key].fwd - a.r[key].fwd);
      both += a.r[key].both + f * (z.r[key].both - a.r[key].both);
    }
    rows.push({
      name: `block${bi + 1} ${key} (${N}x${c}..${c + 32 * (layers - 1)}x${hw}²)`,
      count: 1,
      fwd,
      both,
      part: key,
    });
  }
  c += 32 * layers;
  if (bi < blocks.length - 1) {
    const x = leaf([N, c, hw, hw], 12);
    const p = bnParams(c);
    const w = kaiming([c / 2, c, 1, 1], 13);
    await op(
      `transition${bi + 1} bn-relu-conv1x1-avgpool ${N}x${c}x${hw}²`,
      1,
      () => avgPool2d(conv2d(batchNormRelu(x, p.w, p.b, p.rm, p.rv, train), w), { kernel: 2, stride: 2 }),
      [x, p.w, p.b, w],
    );
    c /= 2;
    hw /= 2;
  }
}
{
  const x = leaf([N, c, hw, hw], 14);
  const p = bnParams(c);
  await op(
    `norm5+relu+pool ${N}x${c}x${hw}²`,
    1,
    () => globalAvgPool2d(batchNormRelu(x, p.w, p.b, p.rm, p.rv, train)),
    [x, p.w, p.b],
  );
}

console.log('\nestimated training step (fwd+bwd, no optimizer), plain bottleneck:');
const parts = rows.filter((r) => !r.part || r.part === 'bottleneck' || r.part === 'bnrelu2+conv3x3');
const sum = parts.reduce((s, r) => s + r.count * r.both, 0);
for (const r of parts.sort((a, b) => b.count * b.both - a.count * a.both))
  console.log(
    `  ${(r.count * r.both).toFixed(0).padStart(7)} ms  ${((100 * r.count * r.both) / sum).toFixed(1).padStart(5)}%  ${r.name}`,
  );
console.log(
  `  ${sum.toFixed(0).padStart(7)} ms  total (${((N / sum) * 1e3).toFixed(2)} img/s); parts of the dense layers:`,
);
for (const key of ['concat', 'conv1x1', 'conv3x3', 'bottleneckEfficient']) {
  const s = rows.filter((r) => r.part === key).reduce((a, r) => a + r.both, 0);
  console.log(`  ${s.toFixed(0).padStart(7)} ms  ${key} (all blocks)`);
}
