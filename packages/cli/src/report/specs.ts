/**
 * The report's charts as Vega-Lite specifications (data inline). Kept free of rendering so the
 * specs can be checked as data; render.ts turns them into SVG and PNG.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { EpochMetrics } from '@spine/models';
import type { CalibrationBin } from './curves.js';
import type { SplitRow } from './run-data.js';

const WIDTH = 420;
const HEIGHT = 260;
const SEX_COLORS = { domain: ['female', 'male'], range: ['#c0392b', '#2471a3'] };
const SERIES_COLORS = { domain: ['train', 'validation'], range: ['#2471a3', '#e67e22'] };
const base = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  background: 'white',
  config: { font: 'DejaVu Sans, Liberation Sans, Arial, sans-serif', view: { stroke: '#ddd' } },
} as const;

/** Films per class per split (the paper's Tables 1 and 5 as bars). */
export function splitCountsSpec(rows: readonly SplitRow[]): TopLevelSpec {
  const values = rows.flatMap((r) => [
    { split: r.split, sex: 'female', films: r.female },
    { split: r.split, sex: 'male', films: r.male },
  ]);
  const enc = {
    x: { field: 'split', type: 'nominal', sort: ['train', 'val', 'test'], title: null, axis: { labelAngle: 0 } },
    xOffset: { field: 'sex', type: 'nominal' },
    y: { field: 'films', type: 'quantitative', title: 'films' },
  } as const;
  return {
    ...base,
    title: 'Films per split and sex',
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    // One shared encoding (colour included): split across layers, vega-lite unions the xOffset domains with conflicting sorts.
    encoding: { ...enc, color: { field: 'sex', type: 'nominal', scale: SEX_COLORS, title: null } },
    layer: [
      { mark: 'bar' },
      { mark: { type: 'text', dy: -6 }, encoding: { text: { field: 'films', type: 'quantitative' } } },
    ],
  };
}

function perEpoch(
  epochs: readonly EpochMetrics[],
  train: (m: EpochMetrics) => number | undefined,
  val: (m: EpochMetrics) => number | undefined,
) {
  return epochs.flatMap((m) => [
    ...(train(m) !== undefined ? [{ epoch: m.epoch, series: 'train', value: train(m) }] : []),
    ...(val(m) !== undefined ? [{ epoch: m.epoch, series: 'validation', value: val(m) }] : []),
  ]);
}

function epochLines(title: string, yTitle: string, values: object[], yDomain?: [number, number]): TopLevelSpec {
  return {
    ...base,
    title,
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' } },
      y: {
        field: 'value',
        type: 'quantitative',
        title: yTitle,
        ...(yDomain ? { scale: { domain: yDomain } } : { scale: { zero: false } }),
      },
      color: { field: 'series', type: 'nominal', scale: SERIES_COLORS, title: null },
    },
  };
}

/** Cross-entropy per epoch, train (mean over the epoch's batches) and validation (the paper's Figures 8, 9). */
export function lossSpec(epochs: readonly EpochMetrics[]): TopLevelSpec {
  return epochLines(
    'Loss per epoch',
    'cross-entropy loss',
    perEpoch(
      epochs,
      (m) => m.trainLoss,
      (m) => m.valLoss,
    ),
  );
}

export function accuracySpec(epochs: readonly EpochMetrics[]): TopLevelSpec {
  return epochLines(
    'Accuracy per epoch',
    'accuracy',
    perEpoch(
      epochs,
      (m) => m.trainAccuracy,
      (m) => m.valAccuracy,
    ),
    [0, 1],
  );
}

/** Axis tick labels' font size in pixels, set on the axes that choose their own ticks below. */
export const AXIS_LABEL_FONT_SIZE = 10;
/** Least distance between two tick labels stacked on a vertical axis: a label's height plus leading. */
export const TICK_LABEL_SPACING = 1.6 * AXIS_LABEL_FONT_SIZE;

/**
 * Ticks for a log axis `pixels` long over [min, max] (both positive): the domain widened to whole
 * decades, and the densest of 1-2-5, 1-3 or 1 per decade (then every k-th decade) whose labels lie at
 * least `spacing` pixels apart. Vega's own log ticks label 1..9 in every decade and let the labels
 * run into each other near the top of each decade.
 */
export function logTicks(
  min: number,
  max: number,
  pixels: number,
  spacing = TICK_LABEL_SPACING,
): { domain: [number, number]; values: number[] } {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(max)));
  const perDecade = pixels / (hi - lo);
  const clean = (v: number) => Number(v.toPrecision(12));
  const domain: [number, number] = [clean(10 ** lo), clean(10 ** hi)];
  for (const mantissas of [
    [1, 2, 5],
    [1, 3],
  ]) {
    const logs = [...mantissas.map(Math.log10), 1];
    const gap = Math.min(...logs.slice(1).map((l, i) => l - logs[i]!)) * perDecade;
    if (gap >= spacing)
      return {
        domain,
        values: [
          ...Array.from({ length: hi - lo }, (_, d) => mantissas.map((m) => clean(m * 10 ** (lo + d)))).flat(),
          domain[1],
        ],
      };
  }
  const step = Math.ceil(spacing / perDecade - 1e-9);
  const values: number[] = [];
  for (let e = lo; e <= hi; e += step) values.push(clean(10 ** e));
  return { domain, values };
}

/** The first parameter group's learning rate (the features'; the classifier's is a fixed multiple). */
export function learningRateSpec(epochs: readonly EpochMetrics[]): TopLevelSpec {
  const positive = epochs.length > 0 && epochs.every((m) => m.lr > 0);
  const lrs = epochs.map((m) => m.lr);
  const log = positive ? logTicks(Math.min(...lrs), Math.max(...lrs), HEIGHT) : null;
  return {
    ...base,
    title: 'Learning rate per epoch',
    width: WIDTH,
    height: HEIGHT,
    data: { values: epochs.map((m) => ({ epoch: m.epoch, lr: m.lr })) },
    mark: { type: 'line', point: true, interpolate: 'step-after', color: '#2471a3' },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' } },
      y: log
        ? {
            field: 'lr',
            type: 'quantitative',
            title: 'learning rate',
            scale: { type: 'log', domain: log.domain, nice: false },
            axis: { values: log.values, format: '.0e', labelFontSize: AXIS_LABEL_FONT_SIZE },
          }
        : {
            field: 'lr',
            type: 'quantitative',
            title: 'learning rate',
            scale: { zero: true },
            axis: { format: '.1e', labelFontSize: AXIS_LABEL_FONT_SIZE },
          },
    },
  };
}

/** Rows true sex, columns predicted sex, as the paper's tables: [[FF, FM], [MF, MM]]. */
export function confusionSpec(confusion: readonly (readonly number[])[]): TopLevelSpec {
  const names = ['female', 'male'];
  const values = names.flatMap((t, i) => names.map((p, j) => ({ truth: t, predicted: p, films: confusion[i]![j]! })));
  const enc = {
    x: { field: 'predicted', type: 'nominal', sort: names, title: 'predicted', axis: { orient: 'top', labelAngle: 0 } },
    y: { field: 'truth', type: 'nominal', sort: names, title: 'true' },
  } as const;
  return {
    ...base,
    title: 'Confusion matrix (test set)',
    width: 240,
    height: 240,
    data: { values },
    layer: [
      {
        mark: 'rect',
        encoding: { ...enc, color: { field: 'films', type: 'quantitative', scale: { scheme: 'blues' }, legend: null } },
      },
      // White figures on the dark cells, black on the light ones.
      {
        mark: { type: 'text', fontSize: 22 },
        encoding: {
          ...enc,
          text: { field: 'films', type: 'quantitative' },
          color: {
            condition: { test: `datum.films > ${Math.max(...values.map((v) => v.films)) / 2}`, value: 'white' },
            value: 'black',
          },
        },
      },
    ],
  };
}

/** ROC curve of P(male) with the chance diagonal; the AUC in the title. */
export function rocSpec(fpr: readonly number[], tpr: readonly number[], auc: number | null): TopLevelSpec {
  return {
    ...base,
    title: `ROC curve (test set), AUC ${auc === null ? 'n/a' : auc.toFixed(3)}`,
    width: 300,
    height: 300,
    layer: [
      {
        data: {
          values: [
            { x: 0, y: 0 },
            { x: 1, y: 1 },
          ],
        },
        mark: { type: 'line', strokeDash: [4, 4], color: '#999' },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
      },
      {
        data: { values: fpr.map((f, i) => ({ order: i, fpr: f, tpr: tpr[i]! })) },
        mark: { type: 'line', color: '#2471a3', strokeWidth: 2 },
        encoding: {
          x: {
            field: 'fpr',
            type: 'quantitative',
            title: 'false positive rate (females called male)',
            scale: { domain: [0, 1] },
          },
          y: {
            field: 'tpr',
            type: 'quantitative',
            title: 'true positive rate (males called male)',
            scale: { domain: [0, 1] },
          },
          order: { field: 'order', type: 'quantitative' },
        },
      },
    ],
  };
}

/** Reliability diagram: observed fraction male against mean predicted P(male) per bin. */
export function calibrationSpec(bins: readonly CalibrationBin[], ece: number): TopLevelSpec {
  return {
    ...base,
    title: `Calibration (test set), ECE ${Number.isFinite(ece) ? ece.toFixed(3) : 'n/a'}`,
    width: 300,
    height: 300,
    layer: [
      {
        data: {
          values: [
            { x: 0, y: 0 },
            { x: 1, y: 1 },
          ],
        },
        mark: { type: 'line', strokeDash: [4, 4], color: '#999' },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
      },
      {
        data: { values: bins.map((b) => ({ ...b })) },
        encoding: {
          x: {
            field: 'meanPredicted',
            type: 'quantitative',
            title: 'mean predicted P(male)',
            scale: { domain: [0, 1] },
          },
          y: { field: 'fractionMale', type: 'quantitative', title: 'fraction male', scale: { domain: [0, 1] } },
        },
        layer: [
          { mark: { type: 'line', color: '#2471a3' } },
          {
            mark: { type: 'circle', color: '#2471a3', opacity: 0.9 },
            encoding: {
              size: {
                field: 'films',
                type: 'quantitative',
                title: 'films',
                scale: { range: [20, 300] },
                legend: { values: legendCounts(bins.map((b) => b.films)) },
              },
            },
          },
        ],
      },
    ],
  };
}

/**
 * The size legend's entries: film counts that bins actually have (at most `most`, smallest and
 * largest always), so the legend never shows a size no point has, such as vega's default 0.
 */
export function legendCounts(counts: readonly number[], most = 5): number[] {
  const distinct = [...new Set(counts)].sort((a, b) => a - b);
  if (distinct.length <= most) return distinct;
  return [
    ...new Set(Array.from({ length: most }, (_, i) => distinct[Math.round((i * (distinct.length - 1)) / (most - 1))]!)),
  ];
}
