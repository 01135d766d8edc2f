import { anatomyFeatures, sampleSubject, type Region } from './phantom.js';

/**
 * The designed ceiling: logistic regression on the phantom's own anatomical parameters (what a
 * perfect feature extractor could see, before film nuisance). A CNN on the pixels should land
 * somewhat below this.
 */
export interface SeparabilityResult {
  region: Region;
  trainSize: number;
  testSize: number;
  accuracy: number;
  /** Measured Cohen's d of each feature, (mean M - mean F) / pooled SD, on the test set. */
  cohensD: Record<string, number>;
}

const FEATURE_NAMES: Record<Region, string[]> = {
  cervical: [
    'bodyDepth',
    'bodyHeight',
    'canalDepth',
    'neckDepth',
    'age',
    'discFactor',
    'osteophytes',
    'larynx',
    'thyroidCalcified',
  ],
  lumbar: ['bodyDepth', 'bodyHeight', 'canalDepth', 'abdomenDepth', 'age', 'discFactor', 'osteophytes', 'breast'],
};

function dataset(region: Region, seed: number, n: number): { x: number[][]; y: number[] } {
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = sampleSubject(region, seed, i);
    x.push(anatomyFeatures(p));
    y.push(p.sex === 'M' ? 1 : 0);
  }
  return { x, y };
}

/** Full-batch gradient descent on standardised features; small, deterministic, dependency-free. */
function fitLogistic(x: number[][], y: number[], epochs = 400, lr = 0.5): (row: number[]) => number {
  const d = x[0]!.length;
  const mean = new Array<number>(d).fill(0);
  const sd = new Array<number>(d).fill(0);
  for (const r of x) r.forEach((v, j) => (mean[j]! += v / x.length));
  for (const r of x) r.forEach((v, j) => (sd[j]! += (v - mean[j]!) ** 2 / x.length));
  const norm = (r: number[]): number[] => r.map((v, j) => (v - mean[j]!) / (Math.sqrt(sd[j]!) || 1));
  const xs = x.map(norm);
  const w = new Array<number>(d + 1).fill(0);
  for (let e = 0; e < epochs; e++) {
    const g = new Array<number>(d + 1).fill(0);
    xs.forEach((r, i) => {
      const z = r.reduce((a, v, j) => a + v * w[j]!, w[d]!);
      const err = 1 / (1 + Math.exp(-z)) - y[i]!;
      r.forEach((v, j) => (g[j]! += (err * v) / xs.length));
      g[d]! += err / xs.length;
    });
    for (let j = 0; j <= d; j++) w[j]! -= lr * g[j]!;
  }
  return (row) => {
    const r = norm(row);
    return 1 / (1 + Math.exp(-r.reduce((a, v, j) => a + v * w[j]!, w[d]!)));
  };
}

export function measureSeparability(region: Region, trainSize = 3000, testSize = 3000): SeparabilityResult {
  const train = dataset(region, 101, trainSize);
  const test = dataset(region, 202, testSize);
  const predict = fitLogistic(train.x, train.y);
  let correct = 0;
  test.x.forEach((r, i) => (correct += (predict(r) >= 0.5 ? 1 : 0) === test.y[i] ? 1 : 0));
  const cohensD: Record<string, number> = {};
  FEATURE_NAMES[region].forEach((name, j) => {
    const m = test.x.filter((_, i) => test.y[i] === 1).map((r) => r[j]!);
    const f = test.x.filter((_, i) => test.y[i] === 0).map((r) => r[j]!);
    const avg = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
    const variance = (a: number[]): number => a.reduce((s, v) => s + (v - avg(a)) ** 2, 0) / (a.length - 1);
    cohensD[name] = (avg(m) - avg(f)) / Math.sqrt((variance(m) + variance(f)) / 2);
  });
  return { region, trainSize, testSize, accuracy: correct / testSize, cohensD };
}
