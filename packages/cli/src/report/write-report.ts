/**
 * `spine-cli report RUN` and the end of `train`: RUN/report/report.html plus every chart as SVG
 * and PNG and the Grad-CAM pictures as PNG, each written atomically.
 */
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { inputTransform, isDenseNetConfig, rocCurve, writeFileAtomic } from '@spine/models';
import type { Module } from '@spine/nn';
import type { TopLevelSpec } from 'vega-lite';
import { calibrationBins, expectedCalibrationError } from './curves.js';
import { explainTestSet, type ExplainedTestSet } from './explained.js';
import { renderReportHtml, type ReportFigure } from './html.js';
import { renderChart } from './render.js';
import { readRunData, type RunData } from './run-data.js';
import * as specs from './specs.js';
import { loadRunSplit } from '../run/run-dir.js';

export const REPORT_DIR = 'report';

export interface ReportOptions {
  /**
   * The run's network with the evaluated checkpoint loaded, on a ready device, for the Grad-CAM
   * pictures; without it the report has none and says so.
   */
  model?: Module;
  /** Films in each gallery row (default 6). */
  galleryCount?: number;
  /** Test films per sex in the Grad-CAM class averages (default 100; 0: all). */
  averageFilms?: number;
  /** Largest film (width x height) the Grad-CAM pictures decode; default @spine/imaging's DEFAULT_MAX_PIXELS. */
  maxPixels?: number;
  onProgress?: (what: string, done: number, total: number) => void;
}

export interface ReportResult {
  html: string;
  files: string[];
}

export async function writeReport(runDir: string, options: ReportOptions = {}): Promise<ReportResult> {
  const data = await readRunData(runDir);
  const out = join(runDir, REPORT_DIR);
  const files: string[] = [];
  const write = async (name: string, bytes: Uint8Array | string) => {
    const path = join(out, name);
    await fs.mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, bytes);
    files.push(path);
  };

  const figures: ReportFigure[] = [];
  for (const f of chartList(data)) {
    const { svg, png } = await renderChart(f.spec);
    await write(`${f.name}.svg`, svg);
    await write(`${f.name}.png`, png);
    figures.push({ name: f.name, title: f.title, caption: f.caption, svg: scopeSvgIds(svg, f.name) });
  }

  let explained: ExplainedTestSet | null = null;
  let explainedMissing: string | undefined;
  if (!data.test) explainedMissing = 'No Grad-CAM pictures: the run has no test evaluation.';
  else if (!options.model) explainedMissing = 'No Grad-CAM pictures: the network was not available (no checkpoint).';
  else {
    const split = await loadRunSplit(runDir, data.record.config);
    const byFile = new Map(split.test.map((r) => [r.file, r.path]));
    explained = await explainTestSet(options.model, data.test, {
      count: options.galleryCount ?? 6,
      averageFilms: options.averageFilms ?? 100,
      transform: inputTransform(data.record.config.model),
      pathOf: (file) => byFile.get(file) ?? join(data.record.config.data.root, file),
      ...(options.maxPixels !== undefined ? { maxPixels: options.maxPixels } : {}),
      onProgress: (d, t) => options.onProgress?.('Grad-CAM', d, t),
    });
    // The gallery is regenerated whole: films of an earlier report must not linger beside the new ones.
    await fs.rm(join(out, 'gallery'), { recursive: true, force: true });
    for (const a of explained.averages) await write(`gradcam-average-${a.sex}.png`, a.png);
    for (const [i, f] of [...explained.right, ...explained.wrong].entries())
      await write(
        `gallery/${String(i + 1).padStart(2, '0')}-${f.correct ? 'right' : 'wrong'}-${safeName(f.file)}.png`,
        f.png,
      );
  }

  const html = renderReportHtml({
    runDir,
    generatedAt: new Date().toISOString(),
    headline: headline(data),
    notes: notes(data),
    config: configRows(data),
    splits: data.splits,
    metrics: metricRows(data),
    figures,
    explained,
    ...(explainedMissing ? { explainedMissing } : {}),
  });
  await write('report.html', html);
  return { html: join(out, 'report.html'), files };
}

interface Chart {
  name: string;
  title: string;
  caption: string;
  spec: TopLevelSpec;
}

function chartList(data: RunData): Chart[] {
  const charts: Chart[] = [];
  if (data.splits.length)
    charts.push({
      name: 'split-counts',
      title: 'Split',
      caption: 'Films per sex in the train, validation and test splits.',
      spec: specs.splitCountsSpec(data.splits),
    });
  if (data.epochs.length) {
    charts.push(
      {
        name: 'loss',
        title: 'Loss',
        caption:
          "Training loss is the mean over each epoch's batches (dropout and augmentation on); validation loss is measured after the epoch.",
        spec: specs.lossSpec(data.epochs),
      },
      {
        name: 'accuracy',
        title: 'Accuracy',
        caption: "Training accuracy over the epoch's batches; validation accuracy after the epoch.",
        spec: specs.accuracySpec(data.epochs),
      },
      {
        name: 'learning-rate',
        title: 'Learning rate',
        caption: "The convolution layers' learning rate (the classifier group uses a fixed multiple of it).",
        spec: specs.learningRateSpec(data.epochs),
      },
    );
  }
  const t = data.test;
  if (t) {
    const labels = t.predictions.map((p) => p.label);
    const probs = t.predictions.map((p) => p.probMale);
    const roc = rocCurve(labels, probs);
    const bins = calibrationBins(labels, probs);
    charts.push(
      {
        name: 'confusion',
        title: 'Confusion matrix',
        caption: `Rows: true sex; columns: predicted sex (the paper's layout), ${t.checkpoint} checkpoint, P(male) threshold ${t.report.threshold}.`,
        spec: specs.confusionSpec(t.report.confusion),
      },
      {
        name: 'roc',
        title: 'ROC curve',
        caption: 'P(male) as the score; male is the positive class. The dashed line is chance.',
        spec: specs.rocSpec(roc.fpr, roc.tpr, t.report.rocAuc),
      },
      {
        name: 'calibration',
        title: 'Calibration',
        caption:
          'Test films in ten bins of predicted P(male); point size is the number of films. On the dashed line the probabilities mean what they say.',
        spec: specs.calibrationSpec(bins, expectedCalibrationError(bins)),
      },
    );
  }
  return charts;
}

function headline(data: RunData): string {
  const c = data.record.config;
  const trained = data.epochs.length ? `${data.epochs.length} of ${c.epochs} epochs trained` : 'not trained yet';
  const test = data.test
    ? `; test accuracy ${(100 * data.test.report.accuracy).toFixed(1)}% on ${data.test.report.n} films (${data.test.checkpoint} checkpoint)`
    : '';
  return `Preset ${c.preset}, ${c.model.inputSize} px input, ${trained}${test}.`;
}

function notes(data: RunData): string[] {
  const out: string[] = [];
  // @spine/test-data's films carry no marker in the file; its folder and its naming scheme are the tell.
  const generatorNames = /^(cervical|lumbar)(-roi)?-\d{4}-\d{5}\.png$/;
  const synthetic =
    /[\\/]test-data[\\/]/.test(data.record.config.data.root) ||
    (data.test !== null &&
      data.test.predictions.length > 0 &&
      data.test.predictions.every((p) => generatorNames.test(p.file)));
  if (synthetic)
    out.push(
      'These films look like synthetic phantoms rendered by @spine/test-data (by their folder or file names), not radiographs: the numbers then show the software working, not how well sex can be read from real spines.',
    );
  if (data.epochs.length < data.record.config.epochs)
    out.push(
      `Training stopped after ${data.epochs.length} of ${data.record.config.epochs} epochs; resume it with spine-cli train --out RUN --resume.`,
    );
  return out;
}

/** The configuration table: every set entry of the run's config that applies to its network, then where and with what it ran. */
export function configRows(data: RunData): [string, string][] {
  const r = data.record;
  const rows: [string, string][] = [];
  const model = r.config.model;
  // A batch-norm sequential CNN has no LRN layers; its lrn settings are a default nothing reads.
  const inapplicable = new Set(!isDenseNetConfig(model) && model.batchNorm === true ? ['model.lrn'] : []);
  const flat = (prefix: string, v: unknown) => {
    if (v === null || v === undefined || inapplicable.has(prefix)) return;
    if (typeof v === 'object' && !Array.isArray(v))
      for (const [k, x] of Object.entries(v)) flat(prefix ? `${prefix}.${k}` : k, x);
    else rows.push([prefix, Array.isArray(v) ? v.join(', ') : String(v)]);
  };
  flat('', r.config);
  const adapter = r.adapter as { description?: string; device?: string; backend?: string } | null;
  rows.push(
    ['created', r.createdAt],
    ['git commit', r.gitCommit ?? 'unknown'],
    [
      'adapter',
      adapter ? `${adapter.description || adapter.device || 'unknown'} (${adapter.backend ?? '?'})` : 'unknown',
    ],
  );
  for (const [k, v] of Object.entries(r.packageVersions)) rows.push([`version ${k}`, v]);
  return rows;
}

function metricRows(data: RunData): [string, string][] {
  const t = data.test;
  if (!t) return [];
  const r = t.report;
  const pct = (v: number | null) => (v === null ? 'n/a' : `${(100 * v).toFixed(1)}%`);
  return [
    ['films', String(r.n)],
    ['checkpoint', t.checkpoint],
    [
      'accuracy',
      `${pct(r.accuracy)}${r.accuracyCI95 ? ` (95% bootstrap CI ${pct(r.accuracyCI95[0])} to ${pct(r.accuracyCI95[1])})` : ''}`,
    ],
    ['sensitivity (male)', pct(r.sensitivityMale)],
    ['specificity (female)', pct(r.specificityMale)],
    ['balanced accuracy', pct(r.balancedAccuracy)],
    ['ROC AUC', r.rocAuc === null ? 'n/a' : r.rocAuc.toFixed(3)],
  ];
}

/** Vega numbers its clip paths and gradients per view; inline SVGs on one page need distinct ids. */
function scopeSvgIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, `id="${prefix}-$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`)
    .replace(/href="#([^"]+)"/g, `href="#${prefix}-$1"`);
}

function safeName(file: string): string {
  return file
    .replace(/\.[A-Za-z0-9]+$/, '')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .slice(-80);
}
