import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { Conv2d, Flatten, Linear, MaxPool2d, Module, ReLU, Sequential } from '@spine/nn';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { colormap } from '@spine/imaging';
import { writePng } from '@spine/imaging/node';
import {
  CamAverager,
  camOverlay,
  camTargetFor,
  classAverageOverlay,
  explainFiles,
  gradCam,
  registerCamTarget,
  upsampleBilinear,
  type FileCam,
} from '../src/explain/index.js';
import { PAPER_SEQCNN, SequentialCNN } from '../src/models/sequential-cnn.js';
import { DenseNet } from '../src/models/densenet/densenet.js';

beforeAll(async () => {
  await T.ready();
  T.manualSeed(11);
});

/** conv 2->3 (3x3, pad 1) + ReLU is the explained activation; max pool 2, FC 27->4, ReLU, FC 4->2 the head. */
class TinyCamNet extends Module {
  readonly features = this.registerModule('features', new Sequential(new Conv2d(2, 3, 3, { padding: 1 }), new ReLU()));
  readonly head = this.registerModule(
    'head',
    new Sequential(new MaxPool2d(2), new Flatten(), new Linear(27, 4), new ReLU(), new Linear(4, 2)),
  );
  forward(x: T.Tensor): T.Tensor {
    const a = this.features.forward(x);
    const y = this.head.forward(a);
    a.dispose();
    return y;
  }
}
registerCamTarget(TinyCamNet, (m) => ({
  layer: 'features.1',
  features: (x) => m.features.forward(x),
  head: (a) => m.head.forward(a),
}));

const f64 = async (t: T.Tensor) => Float64Array.from(await t.data());

/** Grad-CAM of TinyCamNet in float64, forward and backward written out by hand. */
async function referenceCam(m: TinyCamNet, input: Float64Array, n: number, classes: number[]) {
  const sd = m.stateDict();
  const [cw, cb, w1, b1, w2, b2] = await Promise.all(
    ['features.0.weight', 'features.0.bias', 'head.2.weight', 'head.2.bias', 'head.4.weight', 'head.4.bias'].map((k) =>
      f64(sd.get(k)!),
    ),
  );
  const maps: number[][] = [];
  const logits: number[][] = [];
  for (let s = 0; s < n; s++) {
    // conv (cross-correlation, zero padding 1) + ReLU: A [3, 6, 6]
    const A = new Float64Array(3 * 36);
    for (let o = 0; o < 3; o++)
      for (let y = 0; y < 6; y++)
        for (let x = 0; x < 6; x++) {
          let v = cb[o]!;
          for (let i = 0; i < 2; i++)
            for (let ky = 0; ky < 3; ky++)
              for (let kx = 0; kx < 3; kx++) {
                const yy = y + ky - 1;
                const xx = x + kx - 1;
                if (yy >= 0 && yy < 6 && xx >= 0 && xx < 6)
                  v += cw[((o * 2 + i) * 3 + ky) * 3 + kx]! * input[((s * 2 + i) * 6 + yy) * 6 + xx]!;
              }
          A[o * 36 + y * 6 + x] = Math.max(0, v);
        }
    // max pool 2x2 with the winning position of each window
    const pooled = new Float64Array(27);
    const argmax = new Int32Array(27);
    for (let o = 0; o < 3; o++)
      for (let py = 0; py < 3; py++)
        for (let px = 0; px < 3; px++) {
          let best = -Infinity;
          let at = -1;
          for (let dy = 0; dy < 2; dy++)
            for (let dx = 0; dx < 2; dx++) {
              const idx = o * 36 + (2 * py + dy) * 6 + 2 * px + dx;
              if (A[idx]! > best) [best, at] = [A[idx]!, idx];
            }
          pooled[o * 9 + py * 3 + px] = best;
          argmax[o * 9 + py * 3 + px] = at;
        }
    const z1 = Array.from({ length: 4 }, (_, j) => b1[j]! + pooled.reduce((acc, v, i) => acc + w1[j * 27 + i]! * v, 0));
    const h1 = z1.map((v) => Math.max(0, v));
    const z2 = [0, 1].map((c) => b2[c]! + h1.reduce((acc, v, j) => acc + w2[c * 4 + j]! * v, 0));
    logits.push(z2);
    // backward of z2[class]
    const c = classes[s]!;
    const dh = [0, 1, 2, 3].map((j) => (z1[j]! > 0 ? w2[c * 4 + j]! : 0));
    const dPooled = Array.from({ length: 27 }, (_, i) => dh.reduce((acc, g, j) => acc + g * w1[j * 27 + i]!, 0));
    const dA = new Float64Array(3 * 36);
    dPooled.forEach((g, i) => (dA[argmax[i]!] += g));
    const map = new Array<number>(36).fill(0);
    for (let o = 0; o < 3; o++) {
      let alpha = 0;
      for (let j = 0; j < 36; j++) alpha += dA[o * 36 + j]!;
      alpha /= 36;
      for (let j = 0; j < 36; j++) map[j] += alpha * A[o * 36 + j]!;
    }
    maps.push(map.map((v) => Math.max(0, v)));
  }
  return { maps, logits };
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number) {
  expect(actual.length).toBe(expected.length);
  const scale = Math.max(1e-6, ...Array.from(expected, Math.abs));
  for (let i = 0; i < expected.length; i++)
    expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThanOrEqual(tol * scale);
}

describe('gradCam', () => {
  it('equals a float64 Grad-CAM computed by hand (predicted and chosen classes), without touching parameter gradients', async () => {
    const m = new TinyCamNet().eval();
    const n = 3;
    const input = Float64Array.from(await T.randn([n, 2, 6, 6], { seed: 5 }).data());
    const x = T.tensor(Float32Array.from(input), [n, 2, 6, 6]);
    for (const choice of ['predicted', [1, 0, 1]] as const) {
      const r = await gradCam(m, x, { classes: choice });
      const predicted = r.probabilities.map((p) => (p[1]! > p[0]! ? 1 : 0));
      const classes = choice === 'predicted' ? predicted : [...choice];
      expect(r.classes).toEqual(classes);
      const ref = await referenceCam(m, input, n, classes);
      expect([r.layer, r.height, r.width]).toEqual(['features.1', 6, 6]);
      for (let s = 0; s < n; s++) {
        expectClose(r.maps[s]!, ref.maps[s]!, 1e-4);
        const e = ref.logits[s]!.map((v) => Math.exp(v - Math.max(...ref.logits[s]!)));
        expectClose(
          r.probabilities[s]!,
          e.map((v) => v / (e[0]! + e[1]!)),
          1e-5,
        );
      }
      // Not a trivially flat map: the reference has structure, and we reproduce it.
      expect(Math.max(...ref.maps.flat())).toBeGreaterThan(0);
    }
    expect(m.parameters().every((p) => p.requiresGrad && p.grad === null)).toBe(true);
    x.dispose();
    m.dispose();
  });

  it('SequentialCNN explains conv5 + ReLU: head(features(x)) is forward(x), maps at conv5 size', async () => {
    const m = new SequentialCNN({ ...PAPER_SEQCNN, inputSize: 67, channels: [4, 6, 8, 8, 6], hidden: [8, 8] }).eval();
    const x = T.randn([2, 3, 67, 67], { seed: 2 });
    const target = camTargetFor(m);
    expect(target.layer).toBe('features.13 (conv5 + ReLU)');
    const whole = await f64(T.noGrad(() => m.forward(x)));
    const split = await f64(T.noGrad(() => T.scope(() => target.head(target.features(x)))));
    expectClose(split, whole, 1e-6);
    const r = await gradCam(m, x);
    // 67 -> conv1 31 -> pool 15 -> conv2 8 -> pool 3 (conv3..5 keep 3x3)
    expect([r.height, r.width, r.maps.length]).toEqual([3, 3, 2]);
    expect(r.maps.every((mp) => mp.every((v) => v >= 0 && Number.isFinite(v)))).toBe(true);
    x.dispose();
    m.dispose();
  });

  it('DenseNet explains features.norm5 + ReLU: head(features(x)) is forward(x)', async () => {
    const m = new DenseNet({
      growthRate: 4,
      blockConfig: [2, 2],
      numInitFeatures: 8,
      bnSize: 2,
      dropRate: 0,
      numClasses: 2,
      memoryEfficient: false,
    }).eval();
    const x = T.randn([2, 3, 32, 32], { seed: 4 });
    const target = camTargetFor(m);
    expect(target.layer).toBe('features.norm5 + ReLU');
    const whole = await f64(T.noGrad(() => m.forward(x)));
    const split = await f64(T.noGrad(() => T.scope(() => target.head(target.features(x)))));
    expectClose(split, whole, 1e-6);
    const r = await gradCam(m, x, { classes: 1 });
    // 32 -> conv0/2 16 -> pool0/2 8 -> transition/2 4
    expect([r.height, r.width, r.classes]).toEqual([4, 4, [1, 1]]);
    expect(r.maps.every((mp) => mp.every((v) => v >= 0 && Number.isFinite(v)))).toBe(true);
    x.dispose();
    m.dispose();
  });

  it('names the model class when no CAM target is registered, and rejects a class out of range', async () => {
    class Unregistered extends Module {
      forward(x: T.Tensor): T.Tensor {
        return x;
      }
    }
    expect(() => camTargetFor(new Unregistered())).toThrow(
      /no CAM target is registered for Unregistered \(registered: .*SequentialCNN/,
    );
    const m = new TinyCamNet().eval();
    const x = T.randn([1, 2, 6, 6], { seed: 1 });
    await expect(gradCam(m, x, { classes: 2 })).rejects.toThrow(/class 2 is outside 0\.\.1/);
    x.dispose();
    m.dispose();
  });
});

describe('explainFiles', () => {
  it("reports each film's undistorted aspect: its own when stretched to the input, the input's for a centre crop", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spine-explain-files-'));
    try {
      const files = [join(dir, 'tall.png'), join(dir, 'wide.png')];
      await writePng(files[0]!, {
        width: 60,
        height: 80,
        channels: 1,
        data: new Float32Array(60 * 80).fill(0.4),
        bitDepth: 8,
      });
      await writePng(files[1]!, {
        width: 90,
        height: 30,
        channels: 1,
        data: new Float32Array(90 * 30).fill(0.6),
        bitDepth: 8,
      });
      const m = new SequentialCNN({
        ...PAPER_SEQCNN,
        inputSize: 32,
        channels: [4, 4, 4, 4, 4],
        hidden: [8, 8],
        conv1: { kernel: 5, stride: 2, padding: 2 },
        conv2: { stride: 1, padding: 1 },
        dropout: 0,
        batchNorm: true,
      });
      m.eval();
      const run = async (resize: 'stretch' | 'shorter-side-crop') => {
        const out: FileCam[] = [];
        for await (const r of explainFiles(m, files, { width: 32, height: 32, resize }))
          if (!('error' in r)) out.push(r);
        return out.map((r) => r.aspect);
      };
      expect(await run('stretch')).toEqual([0.75, 3]);
      expect(await run('shorter-side-crop')).toEqual([1, 1]);
      m.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('heat maps', () => {
  it('upsamples like torch.nn.functional.interpolate(bilinear, align_corners=False)', () => {
    // torch.nn.functional.interpolate(torch.tensor([[[[1., 2.], [3., 4.]]]]), size=(4, 4), mode='bilinear', align_corners=False)
    const want = [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4];
    expectClose(upsampleBilinear([1, 2, 3, 4], 2, 2, 4, 4), want, 1e-7);
    // ... and to (3, 2): rows at source y = 1/6, 5/6 ... clamped at the edges
    expectClose(upsampleBilinear([1, 2, 3, 4], 2, 2, 3, 2), [1, 2, 2, 3, 3, 4], 1e-7);
  });

  it('averages maps scaled to their maxima, per class, with the mean film', () => {
    const avg = new CamAverager(2, 2);
    avg.add(1, [0, 2, 0, 4], 2, 2, [0.2, 0.2, 0.2, 0.2]); // scaled: 0, 0.5, 0, 1
    avg.add(1, [1, 1, 1, 1], 2, 2, [0.4, 0.4, 0.4, 0.4]); // scaled: all 1
    avg.add(0, [0, 0, 0, 0], 2, 2, [1, 0, 1, 0]); // an all-zero map stays zero
    const [a0, a1] = avg.averages();
    expect(a0!.classIndex).toBe(0);
    expect(Array.from(a0!.map)).toEqual([0, 0, 0, 0]);
    expect(a1!.films).toBe(2);
    expectClose(a1!.map, [0.5, 0.75, 0.5, 1], 1e-7);
    expectClose(a1!.film, [0.3, 0.3, 0.3, 0.3], 1e-7);
    expect(a1!.aspect).toBe(1); // no aspect given: the input's
  });

  it("draws the class average at the films' median aspect: the mean film beside the mean map over it", () => {
    // A 16x16 input; the films were 120x160 (aspect 0.75) but for one outlier.
    const avg = new CamAverager(16, 16);
    const film = Float32Array.from({ length: 256 }, (_, i) => ((i % 16) + Math.floor(i / 16)) / 30); // a ramp
    const map = [0, 0, 0, 1]; // evidence in the bottom-right quarter
    for (const aspect of [0.75, 0.74, 0.76, 2]) avg.add(1, map, 2, 2, film, aspect);
    const [a] = avg.averages();
    expect(a!.aspect).toBeCloseTo(0.755, 12); // median of 0.74, 0.75, 0.76, 2
    const fig = classAverageOverlay(a!, { maxSide: 200 });
    // Two panels 200 high and round(200 x 0.755) = 151 wide, a white gap between them.
    const panel = 151;
    const gap = fig.width - 2 * panel;
    expect([fig.height, fig.channels]).toEqual([200, 3]);
    expect(gap).toBeGreaterThan(0);
    expect(gap).toBeLessThan(10);
    expect(panel / fig.height).toBeCloseTo(a!.aspect, 2);
    // Left panel: the mean film (grey: R = G = B), upsampled to the panel, but for one-pixel contours
    // of the heat at 0.5 and 0.8 in jet's colours of those levels.
    const mean = upsampleBilinear(a!.film, 16, 16, 200, panel);
    const heat = upsampleBilinear(a!.map, 16, 16, 200, panel); // the mean map peaks at 1 already
    const px = (x: number, y: number) =>
      Array.from(fig.data.subarray(3 * (y * fig.width + x), 3 * (y * fig.width + x) + 3));
    const inside = (x: number, y: number, l: number) =>
      x >= 0 && y >= 0 && x < panel && y < 200 && heat[y * panel + x]! >= l;
    const edge = (x: number, y: number, l: number) =>
      inside(x, y, l) &&
      [
        [x - 1, y],
        [x + 1, y],
        [x, y - 1],
        [x, y + 1],
      ].some(([u, v]) => u! >= 0 && v! >= 0 && u! < panel && v! < 200 && !inside(u!, v!, l));
    let worst = 0;
    let contour = 0;
    for (let y = 0; y < 200; y++) {
      for (let x = 0; x < panel; x++) {
        const level = edge(x, y, 0.8) ? 0.8 : edge(x, y, 0.5) ? 0.5 : null;
        if (level === null) for (const v of px(x, y)) worst = Math.max(worst, Math.abs(v - mean[y * panel + x]!));
        else {
          contour++;
          expect(px(x, y)).toEqual(colormap('jet', level).map((v) => Math.fround(v)));
        }
      }
    }
    expect(worst).toBeLessThan(1e-6);
    expect(contour).toBeGreaterThan(0);
    expect(contour / (200 * panel)).toBeLessThan(0.03); // lines, not a wash over the film
    for (let y = 0; y < 200; y += 17) for (let x = panel; x < panel + gap; x++) expect(px(x, y)).toEqual([1, 1, 1]);
    // Right panel: the heat, red where the map peaks (bottom right), blue where it is zero (top left).
    const [rHot, , bHot] = px(panel + gap + panel - 3, 197);
    const [rCold, , bCold] = px(panel + gap + 2, 2);
    expect(rHot!).toBeGreaterThan(bHot!);
    expect(bCold!).toBeGreaterThan(rCold!);
    // Wider than high: the width is maxSide.
    const wide = new CamAverager(4, 4);
    wide.add(0, [1], 1, 1, new Float32Array(16), 2);
    const w = classAverageOverlay(wide.averages()[0]!, { maxSide: 100 });
    expect(w.height).toBe(50);
    const at = (x: number) => Array.from(w.data.subarray(3 * (10 * w.width + x), 3 * (10 * w.width + x) + 3));
    expect([at(99), at(100)]).toEqual([
      [0, 0, 0],
      [1, 1, 1],
    ]); // a black (all-zero) film 100 wide, then the gap
    expect(() => wide.add(0, [1], 1, 1, new Float32Array(16), 0)).toThrow(/aspect must be a positive number/);
  });

  it('overlays a map on the film at the film aspect; heat shows where the map peaks', () => {
    const film = {
      width: 300,
      height: 200,
      channels: 1 as const,
      data: new Float32Array(300 * 200).fill(0.5),
      bitDepth: 8,
    };
    // peak in the top-left cell of a 2x2 map
    const out = camOverlay(film, [1, 0, 0, 0], 2, 2, { width: 32, height: 32 }, { maxSide: 150 });
    expect([out.width, out.height, out.channels]).toEqual([150, 100, 3]);
    const px = (x: number, y: number) => Array.from(out.data.subarray(3 * (y * 150 + x), 3 * (y * 150 + x) + 3));
    const [r0, , b0] = px(2, 2);
    const [r1, , b1] = px(147, 97);
    expect(r0!).toBeGreaterThan(b0!); // jet's hot end: red
    expect(b1!).toBeGreaterThan(r1!); // cold end: blue
  });
});
