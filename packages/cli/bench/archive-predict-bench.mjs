// Archive prediction in films/s, the whole of what `spine-cli predict --input` does per film:
// read the PNG from disk, decode, grey, resize to the network's input, normalise, forward, softmax,
// read the probabilities back. Films are 1024x1280 8-bit grey PNGs (an archive's films are this
// size or larger; decoding them is a real share of the work). Two networks: the paper's DenseNet-121
// at 224 px (paper-densenet-* presets, batch 4) and the quick preset's network at its 64 px
// (batch 32). Each with the films decoded on 2 loader worker threads while the network runs (what
// predict does by default) and on the main thread in turn (--workers 0, no overlap). Peer: PyTorch CPU
// doing the same per film (PIL decode, grey, resize, normalise, torchvision / torch.nn network,
// softmax), with a torch DataLoader of as many worker processes (archive_predict_peer.py).
// Build first (npm run build). Usage: node bench/archive-predict-bench.mjs [--quick]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '@spine/tensor/node';
import { encodePng } from '@spine/imaging';
import * as models from '@spine/models';
import { presetConfig, inputTransform } from '../dist/run/config.js';
import { buildModel } from '../dist/run/run-dir.js';
import { predictBatches } from '../dist/commands/predict-batches.js';
import { finishSuite, quick, timeMedian } from '../../../bench/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const W = 1024;
const H = 1280;

const loadAtStart = loadavg()
  .map((v) => v.toFixed(2))
  .join(', ');
await T.ready();
const info = T.deviceInfo();
const dir = mkdtempSync(path.join(tmpdir(), 'spine-archive-bench-'));
const cases = [];
try {
  const count = quick ? 16 : 96;
  const films = [];
  for (let i = 0; i < count; i++) {
    // A smooth film with grain: deflate neither trivial nor incompressible, like a radiograph.
    const px = new Uint8Array(W * H);
    let s = 12345 + i;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        s = (s * 1103515245 + 12345) >>> 0;
        px[y * W + x] = Math.max(
          0,
          Math.min(255, Math.round(128 + 90 * Math.sin((x + 7 * i) / 97) * Math.cos(y / 131) + ((s >>> 24) % 16) - 8)),
        );
      }
    }
    const file = path.join(dir, `film-${String(i).padStart(3, '0')}.png`);
    writeFileSync(
      file,
      encodePng({ width: W, height: H, channels: 1, data: Float32Array.from(px, (v) => v / 255), bitDepth: 8 }),
    );
    films.push(file);
  }

  const setups = [
    {
      name: 'DenseNet-121, 224 px (paper-densenet presets)',
      config: presetConfig('paper-densenet-cervical', models.PAPER_SEQCNN),
      films: films.slice(0, quick ? 8 : 16),
    },
    { name: 'quick preset network, 64 px', config: presetConfig('quick', models.PAPER_SEQCNN), films },
  ];
  for (const setup of setups) {
    const model = buildModel(models, T, setup.config);
    model.eval();
    const transform = inputTransform(setup.config);
    const batchSize = setup.config.batchSize;
    for (const workers of [2, 0]) {
      const pass = () =>
        predictBatches(models, T, model, setup.films, { batchSize, transform, workers }, async () => {});
      const ms = await timeMedian(pass, { warmup: 1, reps: quick ? 2 : 3 });
      const rate = setup.films.length / (ms / 1e3);
      const label = `archive predict, ${setup.name}, batch ${batchSize}, ${W}x${H} PNG films, ${workers ? `decode on ${workers} workers` : 'decode on the main thread'}`;
      const m = setup.config.model;
      cases.push({
        label,
        unit: 'films/s',
        ms,
        rate,
        peerMs: null,
        peerRate: null,
        ratio: null,
        work: setup.films.length,
        workScale: 1,
        torchCase: {
          films: setup.films,
          batch: batchSize,
          workers,
          size: transform.width,
          resize: transform.resize,
          model: m.kind === 'densenet' ? { densenet: m.arch } : m,
        },
      });
      console.log(`${label.padEnd(110)} ours ${rate.toFixed(2).padStart(7)} films/s`);
    }
    model.dispose();
  }
  await T.releaseDevice();
  finishSuite(root, 'cli-archive-predict', info, null, cases, {
    torchScript: path.join(here, 'archive_predict_peer.py'),
    notes: [
      `- ${setups[0].films.length} films for DenseNet-121, ${setups[1].films.length} for the quick network; each pass predicts all of them (median of ${quick ? 2 : 3} passes after one warm-up). Untrained weights: the work does not depend on them.`,
      `- Load average (1, 5, 15 min) at the start: ${loadAtStart}; at the end: in the raw data. Other work on the machine slows both sides, PyTorch's OpenMP threads most.`,
    ],
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
