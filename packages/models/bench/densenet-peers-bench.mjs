// DenseNet-121 inference beside the other engines that run it: ONNX Runtime for Node (its WebGPU
// provider, on a Dawn of its own, and its CPU provider) and PyTorch (CPU here; the GPU on a lent
// machine, SPINE_TORCH_DEVICE=cuda). Eval mode, 224 px, 1000 classes, in images/s.
// Every engine runs the same network with the same weights: torchvision's densenet121 with seeded
// weights, exported to ONNX by export_densenet_onnx.py (run here with SPINE_TORCH_PYTHON, default
// /usr/bin/python3, into <repo>/.cache/bench/, once per version of that script), its state dict
// loaded into ours. A timed run of ours and of ONNX Runtime both take the batch from host memory
// and end with the logits in host memory (the Node binding of ONNX Runtime cannot keep tensors on
// the device), so both include the upload and the readback. Before timing, ours' logits are
// compared with each provider's on the same input (largest |difference| / largest |logit|).
// Results: bench/results/models-densenet-peers-<adapter>.json -> docs/BENCHMARKS.md.
// Run after `npm run build`: node packages/models/bench/densenet-peers-bench.mjs [--batches 4,32] [--quick]
// (batches: 4 and 32 on GPUs, 4 on software adapters, where ONNX Runtime's WebGPU provider needs
// minutes per batch of 32 and ours runs batches of up to 18; a case an engine cannot run is noted
// and the others still run it. --quick: batch 1, 3 timed runs, results go to *-quick.json.)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '@spine/tensor/node';
import { densenet121 } from '../dist/models/densenet/densenet.js'; // not the package index: it loads the image codecs
import { readWeightsFile } from '../dist/weights/weights-file.js';
import { finishSuite, loadOnnxRuntime, quick, timeMedian } from '../../../bench/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const SIZE = 224;
const REPS = quick ? 3 : 5;

await T.ready();
const info = T.deviceInfo();
const BATCHES = batchesFlag() ?? (quick ? [1] : info.kernels === 'gpu' ? [4, 32] : [4]);
const notes = [];
const cases = BATCHES.map((batch) => ({
  label: `densenet121 inference ${SIZE} px batch ${batch}`,
  unit: 'img/s',
  ms: null,
  rate: null,
  peerMs: null,
  peerRate: null,
  ratio: null,
  peers: {},
  torchCase: { op: 'densenet121', batch, size: SIZE, train: false, classes: 1000 },
  work: batch,
  workScale: 1,
}));

function batchesFlag() {
  const i = process.argv.indexOf('--batches');
  if (i < 0) return null;
  const list = (process.argv[i + 1] ?? '').split(',').map(Number);
  if (!list.length || !list.every((b) => Number.isInteger(b) && b > 0)) {
    console.error(
      `densenet-peers-bench: --batches wants positive integers separated by commas, got '${process.argv[i + 1] ?? ''}'`,
    );
    process.exit(2);
  }
  return list;
}

/** The exported files, exporting them first when this version of the script has not yet. */
function exportedModel() {
  const script = path.join(here, 'export_densenet_onnx.py');
  const version = createHash('sha256').update(readFileSync(script)).digest('hex').slice(0, 12);
  const dir = path.join(root, '.cache', 'bench', `densenet121-onnx-${version}`);
  const files = {
    onnx: path.join(dir, 'densenet121.onnx'),
    pth: path.join(dir, 'densenet121.pth'),
    meta: path.join(dir, 'densenet121.json'),
  };
  if (!existsSync(files.meta)) {
    const python = process.env.SPINE_TORCH_PYTHON ?? '/usr/bin/python3';
    console.log(`exporting torchvision's densenet121 to ONNX with ${python} (${path.relative(root, dir)})`);
    const r = spawnSync(python, [script, dir], {
      stdio: ['ignore', 'inherit', 'pipe'],
      encoding: 'utf8',
      timeout: 600_000,
    });
    if (r.status !== 0) {
      console.warn(
        `no ONNX export (${(r.stderr || r.error?.message || '').trim().split('\n').at(-1)}): the ONNX Runtime rows are left out`,
      );
      return null;
    }
  }
  return { ...files, meta: JSON.parse(readFileSync(files.meta, 'utf8')) };
}

/** Deterministic batches, the same floats for every engine. */
const inputs = new Map();
async function inputFor(batch) {
  if (!inputs.has(batch)) {
    const x = T.randn([batch, 3, SIZE, SIZE], { seed: 2 });
    inputs.set(batch, await x.data());
    x.dispose();
  }
  return inputs.get(batch);
}

/** A case one engine could not run: said in the results' notes, the others still run it. */
function failed(c, engine, err) {
  const why = String(err?.message ?? err).split('\n')[0];
  console.warn(`${engine}: ${c.label} failed: ${why}`);
  notes.push(`- ${engine} could not run ${c.label}: ${why}`);
}

/** Largest |a - b| over largest |b|: the logits' agreement on their own scale. */
function relativeDifference(a, b) {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

const exported = exportedModel();
const onnx = exported ? await loadOnnxRuntime() : null;

// Ours first, with the exported weights when there are any (the rates do not depend on them).
const model = densenet121();
if (exported) model.loadStateDict((await readWeightsFile(exported.pth)).tensors);
model.eval();
const ourLogits = new Map();
for (const c of cases) {
  const batch = c.torchCase.batch;
  const host = await inputFor(batch);
  const shape = [batch, 3, SIZE, SIZE];
  let logits;
  try {
    c.ms = await timeMedian(
      async () => {
        const y = T.noGrad(() => T.scope(() => model.forward(T.tensor(host, shape))));
        logits = await y.data();
        y.dispose();
      },
      { warmup: 1, reps: REPS },
    );
  } catch (err) {
    failed(c, 'ours', err);
    continue;
  }
  c.rate = batch / (c.ms / 1e3);
  ourLogits.set(batch, logits);
  console.log(`${`ours: ${c.label}`.padEnd(64)} ${c.rate.toFixed(3)} img/s (${c.ms.toFixed(0)} ms per batch)`);
}
model.dispose();

const peers = [];
if (onnx) {
  const { ort, version } = onnx;
  const providers = [
    {
      id: 'ortWebgpu',
      ep: 'webgpu',
      name: `ONNX Runtime ${version} webgpu (its own Dawn, default adapter)`,
      column: 'ONNX Runtime webgpu',
    },
    {
      id: 'ortCpu',
      ep: 'cpu',
      name: `ONNX Runtime ${version} CPU (a thread per physical core)`,
      column: 'ONNX Runtime CPU',
    },
  ].filter((p) => onnx.backends.includes(p.ep));
  for (const p of providers) {
    let session;
    try {
      session = await ort.InferenceSession.create(exported.onnx, { executionProviders: [p.ep], logSeverityLevel: 3 });
    } catch (err) {
      console.warn(`${p.name}: no session (${err.message.split('\n')[0]}), left out`);
      continue;
    }
    peers.push({ id: p.id, name: p.name, column: p.column });
    for (const c of cases) {
      const batch = c.torchCase.batch;
      const feed = { input: new ort.Tensor('float32', await inputFor(batch), [batch, 3, SIZE, SIZE]) };
      let logits;
      let ms;
      try {
        ms = await timeMedian(
          async () => {
            logits = (await session.run(feed)).logits.data;
          },
          { warmup: 1, reps: REPS },
        );
      } catch (err) {
        failed(c, p.column, err);
        continue;
      }
      c.peers[p.id] = { ms, rate: batch / (ms / 1e3) };
      const ours = ourLogits.get(batch);
      if (ours) c.peers[p.id].logitsRelDiff = relativeDifference(ours, logits);
      const agreement = ours ? `; logits vs ours ${c.peers[p.id].logitsRelDiff.toExponential(1)}` : '';
      console.log(
        `${`${p.column}: ${c.label}`.padEnd(64)} ${c.peers[p.id].rate.toFixed(3)} img/s (${ms.toFixed(0)} ms per batch)${agreement}`,
      );
    }
    await session.release();
  }
  const diffs = cases.flatMap((c) =>
    Object.values(c.peers).flatMap((r) => (r.logitsRelDiff == null ? [] : [r.logitsRelDiff])),
  );
  const worst = diffs.length ? Math.max(...diffs) : null;
  const agreement =
    worst == null
      ? 'not compared (ours did not run)'
      : `largest |difference| / largest |logit| ${worst.toExponential(1)} (${worst <= 1e-3 ? 'within' : 'OUTSIDE'} 1e-3)`;
  if (peers.length) {
    notes.push(
      `- Same network, same weights in every engine: torchvision ${exported.meta.torchvision}'s densenet121 with seeded weights, exported to ONNX (opset ${exported.meta.opset}) by \`packages/models/bench/export_densenet_onnx.py\`, its state dict loaded into ours. Ours' logits against ONNX Runtime's on the same batch: ${agreement}.`,
      `- A timed run of ours and of ONNX Runtime includes uploading the batch and reading back the logits (the Node binding of ONNX Runtime keeps no tensor on the device). ONNX Runtime's WebGPU provider runs on the Dawn built into libonnxruntime, not ours; it takes the default adapter.`,
    );
  }
}
if (!peers.length)
  notes.push(
    '- ONNX Runtime was not available (onnxruntime-node not installed, or no ONNX export: needs PyTorch with torchvision).',
  );

finishSuite(root, 'models-densenet-peers', info, null, cases, { notes, peers });
