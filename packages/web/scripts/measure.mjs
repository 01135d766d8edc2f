// Page load time and time per film in the browser, next to spine-cli's figures on the same run,
// films and machine. Not a test (nothing is asserted) and not part of `npm run bench` (it needs
// chromium and a trained run):
//
//   node packages/web/scripts/measure.mjs --run RUN --films DIR [--reps 3] [--chromium /usr/bin/chromium]
//
// Browser (headless chromium, WebGPU with --enable-unsafe-webgpu; a fresh browser per repetition,
// so every load compiles its pipelines): load = navigation start until the model is on the GPU and
// the page says Ready (app.js, the model download, WebGPU device, weights upload); per film =
// reading, decoding, preprocessing, the network and Grad-CAM, in batches of 4, first pass (cold
// pipelines) and second pass (warm). Node: `spine-cli predict` (network only, batch 16) and
// `spine-cli explain` (network + Grad-CAM + overlay PNG) as child processes; per film =
// (time for N films - time for 1 film) / (N - 1), which takes out process start, device and model
// load; "ready" = the 1-film run. Medians over --reps. Needs the packages built (npm run build).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values } = parseArgs({
  options: {
    run: { type: 'string' },
    films: { type: 'string' },
    reps: { type: 'string', default: '3' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
  },
});
if (!values.run || !values.films)
  throw new Error('usage: measure.mjs --run RUN --films DIR [--reps N] [--chromium PATH]');
const run = resolve(values.run);
const reps = Number(values.reps);
const cli = fileURLToPath(new URL('../../cli/bin/spine-cli.js', import.meta.url));
const films = readdirSync(resolve(values.films))
  .filter((f) => /\.(png|jpe?g|tiff?|dcm)$/i.test(f))
  .sort()
  .map((f) => join(resolve(values.films), f));
if (films.length < 2) throw new Error('--films needs at least two films');
const tmp = mkdtempSync(join(tmpdir(), 'spine-web-measure-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const seconds = (ms) => (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);

function timeCli(args) {
  const start = performance.now();
  execFileSync(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  return performance.now() - start;
}

function nodeFigures(command) {
  const out = (i) => (command === 'predict' ? ['--out', join(tmp, `p${i}.csv`)] : ['--out', join(tmp, `e${i}`)]);
  const one = [];
  const all = [];
  for (let i = 0; i < reps; i++) {
    one.push(timeCli([command, '--run', run, films[0], ...out(i)]));
    all.push(timeCli([command, '--run', run, ...films, ...out(i)]));
  }
  return { readyMs: median(one), perFilmMs: (median(all) - median(one)) / (films.length - 1) };
}

async function browserFigures(site) {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://localhost').pathname;
    const file = join(site, path === '/' ? 'index.html' : path.slice(1));
    if (!existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/`;
  const load = [];
  const cold = [];
  const warm = [];
  let adapter = '';
  try {
    for (let i = 0; i < reps; i++) {
      const browser = await chromium.launch({
        executablePath: values.chromium,
        args: ['--no-sandbox', '--enable-unsafe-webgpu'],
      });
      try {
        const page = await browser.newPage();
        await page.goto(url);
        await page.waitForFunction(
          () =>
            document.body.dataset.state === 'ready' ||
            document.body.dataset.state === 'no-webgpu' ||
            document.body.dataset.state === 'no-model',
          null,
          { timeout: 600_000 },
        );
        if ((await page.evaluate(() => document.body.dataset.state)) !== 'ready')
          throw new Error(`the page did not get ready: ${await page.textContent('#alert')}`);
        load.push(await page.evaluate(() => window.spineWeb.timings.modelReadyMs));
        adapter = await page.textContent('#device-info');
        for (const pass of [cold, warm]) {
          const before = await page.evaluate(() => window.spineWeb.timings.perFilmMs.length);
          await page.setInputFiles('#film-input', films);
          await page.waitForFunction(
            (n) => window.spineWeb.timings.perFilmMs.length >= n && document.body.dataset.state === 'ready',
            before + films.length,
            { timeout: 1_800_000 },
          );
          const t = await page.evaluate((b) => window.spineWeb.timings.perFilmMs.slice(b), before);
          pass.push(t.reduce((s, v) => s + v, 0) / t.length);
        }
      } finally {
        await browser.close();
      }
    }
  } finally {
    server.close();
  }
  return { adapter, loadMs: median(load), coldPerFilmMs: median(cold), warmPerFilmMs: median(warm) };
}

try {
  const site = join(tmp, 'site');
  execFileSync(process.execPath, [cli, 'export-web', run, '--out', site], { stdio: ['ignore', 'ignore', 'pipe'] });
  const modelMiB = readFileSync(join(site, 'model.safetensors')).byteLength / 2 ** 20;
  const browser = await browserFigures(site);
  const predict = nodeFigures('predict');
  const explain = nodeFigures('explain');
  const result = {
    run: basename(run),
    films: films.length,
    modelMiB: Number(modelMiB.toFixed(2)),
    reps,
    browser,
    node: { predict, explain },
  };
  console.log(
    `run ${basename(run)}, ${films.length} films, model ${modelMiB >= 1 ? `${modelMiB.toFixed(1)} MiB` : `${Math.ceil(modelMiB * 1024)} KiB`}; ${browser.adapter}`,
  );
  console.log('| where | ready (s) | per film (s) |');
  console.log('|---|---|---|');
  console.log(
    `| browser page (network + Grad-CAM, batches of 4) | ${seconds(browser.loadMs)} | ${seconds(browser.coldPerFilmMs)} first pass, ${seconds(browser.warmPerFilmMs)} warm |`,
  );
  console.log(
    `| Node, spine-cli predict (network, batch 16) | ${seconds(predict.readyMs)} | ${seconds(predict.perFilmMs)} |`,
  );
  console.log(
    `| Node, spine-cli explain (network + Grad-CAM + PNG) | ${seconds(explain.readyMs)} | ${seconds(explain.perFilmMs)} |`,
  );
  console.log(JSON.stringify(result));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
