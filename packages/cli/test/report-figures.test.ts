import { describe, expect, it } from 'vitest';
import { calibrationBins } from '../src/report/curves.js';
import { renderChart } from '../src/report/render.js';
import type { RunData } from '../src/report/run-data.js';
import {
  AXIS_LABEL_FONT_SIZE,
  TICK_LABEL_SPACING,
  calibrationSpec,
  learningRateSpec,
  legendCounts,
  logTicks,
} from '../src/report/specs.js';
import { configRows } from '../src/report/write-report.js';
import { denseNetModel, presetConfig } from '../src/run/config.js';
import type { RunConfig } from '../src/run/config.js';

/** The texts of one kind of label in a vega SVG, with the translate() each is drawn at. */
function labels(svg: string, role: string): { text: string; x: number; y: number }[] {
  const out: { text: string; x: number; y: number }[] = [];
  for (const group of svg.matchAll(new RegExp(`<g class="mark-text role-${role}"[^>]*>(.*?)</g>`, 'gs'))) {
    for (const m of group[1]!.matchAll(/<text[^>]*transform="translate\(([-\d.]+),([-\d.]+)\)"[^>]*>([^<]*)<\/text>/g))
      out.push({ text: m[3]!, x: Number(m[1]), y: Number(m[2]) });
  }
  return out;
}

const epochsOf = (lrs: number[]) =>
  lrs.map(
    (lr, i) =>
      ({ epoch: i + 1, lr, trainLoss: 1, trainAccuracy: 0.5 }) as Parameters<typeof learningRateSpec>[0][number],
  );

describe('report charts', () => {
  it('learning-rate tick labels never crowd each other, for a constant rate and for schedules over many decades', async () => {
    const schedules = {
      constant: epochsOf([0.04, 0.04, 0.04]),
      'two drops': epochsOf(Array.from({ length: 30 }, (_, i) => 0.04 * 0.1 ** Math.floor(i / 10))),
      'seven decades': epochsOf(Array.from({ length: 40 }, (_, i) => 0.1 * 1e-7 ** (i / 39))),
    };
    for (const [name, epochs] of Object.entries(schedules)) {
      const { svg } = await renderChart(learningRateSpec(epochs), 1);
      const ys = labels(svg, 'axis-label')
        .filter((l) => /e[-+]?\d/.test(l.text))
        .map((l) => l.y)
        .sort((a, b) => a - b);
      expect(ys.length, name).toBeGreaterThanOrEqual(2);
      for (let i = 1; i < ys.length; i++)
        expect(ys[i]! - ys[i - 1]!, `${name}: labels ${i - 1} and ${i}`).toBeGreaterThanOrEqual(TICK_LABEL_SPACING);
      expect(svg).toContain(`font-size="${AXIS_LABEL_FONT_SIZE}px"`);
    }
  });

  it('log ticks: whole decades around the data, the densest mantissas that keep the spacing', () => {
    expect(logTicks(0.04, 0.04, 260)).toEqual({ domain: [0.01, 0.1], values: [0.01, 0.02, 0.05, 0.1] });
    // 2 decades in 60 px: 1-3 no longer fits 16 px apart (0.477 x 30 = 14.3), one label per decade does.
    expect(logTicks(0.002, 0.05, 60).values).toEqual([0.001, 0.01, 0.1]);
    // 10 decades in 100 px: every second decade.
    expect(logTicks(1e-9, 0.5, 100).values).toEqual([1e-9, 1e-7, 1e-5, 1e-3, 1e-1]);
    for (const [lo, hi, px] of [
      [1e-5, 0.3, 260],
      [0.01, 0.1, 30],
      [3e-4, 4e-4, 260],
      [1e-12, 1, 80],
    ] as const) {
      const t = logTicks(lo, hi, px);
      const at = (v: number) => (px * Math.log10(v / t.domain[0])) / Math.log10(t.domain[1] / t.domain[0]);
      expect(t.domain[0]).toBeLessThanOrEqual(lo);
      expect(t.domain[1]).toBeGreaterThanOrEqual(hi);
      for (let i = 1; i < t.values.length; i++)
        expect(at(t.values[i]!) - at(t.values[i - 1]!)).toBeGreaterThanOrEqual(TICK_LABEL_SPACING - 1e-9);
    }
  });

  it('the calibration legend lists only film counts that bins have (no 0 films)', async () => {
    const labelsOf = [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
    const probs = [0.05, 0.06, 0.07, 0.55, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99, 0.99, 0.995, 1];
    const bins = calibrationBins(labelsOf, probs);
    expect(bins.map((b) => b.films)).toEqual([3, 1, 12]);
    const { svg } = await renderChart(calibrationSpec(bins, 0.1), 1);
    const legend = labels(svg, 'legend-label').map((l) => Number(l.text));
    expect(legend).toEqual([1, 3, 12]);
    expect(legendCounts([5, 1, 5, 2, 9, 30, 7, 8], 4)).toEqual([1, 5, 8, 30]);
  });
});

describe('report configuration table', () => {
  const data = (config: RunConfig): RunData =>
    ({
      runDir: '/runs/x',
      record: {
        format: 'spine-run',
        version: 2,
        config,
        createdAt: '2020-01-01T00:00:00.000Z',
        command: [],
        packageVersions: { 'spine-cli': '0.1.0' },
        gitCommit: null,
        adapter: null,
      },
      splits: [],
      epochs: [],
      test: null,
    }) as RunData;

  it('leaves out unset entries and the LRN settings of a batch-norm network', () => {
    const quick = presetConfig('quick');
    expect(quick.model).toMatchObject({ batchNorm: true });
    expect(quick.data.labels).toBeNull();
    const keys = configRows(data(quick)).map(([k]) => k);
    expect(keys.filter((k) => k.startsWith('model.lrn') || k === 'data.labels')).toEqual([]);
    expect(keys).toContain('model.batchNorm');
    expect(keys).toContain('data.root');
    const rows = configRows(data(quick));
    expect(rows.filter(([, v]) => v === 'null' || v === 'undefined')).toEqual([]);
  });

  it('keeps the LRN settings of the paper network, and labels when they are set', () => {
    const paper = presetConfig('paper-seqcnn');
    const keys = configRows(data({ ...paper, data: { ...paper.data, labels: '/d/labels.csv' } })).map(([k]) => k);
    expect(keys).toEqual(
      expect.arrayContaining(['model.lrn.size', 'model.lrn.alpha', 'model.lrn.beta', 'model.lrn.k', 'data.labels']),
    );
    const dense = configRows(data({ ...paper, model: denseNetModel('densenet121') })).map(([k]) => k);
    expect(dense).toContain('model.arch');
    expect(dense.some((k) => k.startsWith('model.lrn'))).toBe(false);
  });
});
