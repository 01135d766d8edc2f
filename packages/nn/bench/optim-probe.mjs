// One optimizer step over DenseNet-121-sized parameters (364 tensors, ~8.5 M values): dispatches
// and median wall time of SGD with momentum, Adam, AdamW with amsgrad and centered RMSprop with
// momentum, each one fused kernel per few parameters.
// Run after `npm run build`: node packages/nn/bench/optim-probe.mjs
import * as T from '@spine/tensor/node';
import { SGD, Adam, AdamW, RMSprop } from '../dist/index.js';
await T.ready();
// 364 tensors totalling ~8M values (DenseNet-121's count and size), sizes spread like its convs and BNs.
const sizes = Array.from({ length: 364 }, (_, i) => (i % 3 === 0 ? 128 * 9 * 32 : i % 3 === 1 ? 256 : 128 * 256));
const total = sizes.reduce((a, b) => a + b, 0);
const params = sizes.map((n, i) => {
  const p = T.randn([n], { seed: i }).keep();
  p.grad = T.randn([n], { seed: 1000 + i }).keep();
  return p;
});
for (const [name, make] of [
  ['SGD momentum', () => new SGD(params, { lr: 0.1, momentum: 0.9 })],
  ['Adam', () => new Adam(params)],
  ['AdamW amsgrad', () => new AdamW(params, { amsgrad: true })],
  ['RMSprop centered momentum', () => new RMSprop(params, { momentum: 0.9, centered: true })],
]) {
  const opt = make();
  opt.step();
  await T.sync();
  const d0 = T.getEngine().counters.dispatches;
  opt.step();
  await T.sync();
  const disp = T.getEngine().counters.dispatches - d0;
  const times = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    opt.step();
    await T.sync();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(`${name.padEnd(28)} ${disp} dispatches, median ${times[2].toFixed(1)} ms per step (${total} values)`);
}
