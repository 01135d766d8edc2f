/**
 * The report page: one self-contained HTML file. Charts are inline SVG, pictures are PNG data
 * URIs, the style sheet is inline, and there is no script, so the page opens offline, from any
 * folder, and fetches nothing.
 */
import type { ExplainedTestSet, GalleryFilm } from './explained.js';
import type { SplitRow } from './run-data.js';

export interface ReportFigure {
  /** File stem and element id (figure-<name>). */
  name: string;
  title: string;
  caption: string;
  svg: string;
}

export interface ReportPage {
  runDir: string;
  generatedAt: string;
  headline: string;
  notes: string[];
  config: [string, string][];
  splits: SplitRow[];
  metrics: [string, string][];
  figures: ReportFigure[];
  explained: ExplainedTestSet | null;
  /** Why there are no Grad-CAM pictures, when there are none. */
  explainedMissing?: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `
body { font-family: 'DejaVu Sans', 'Liberation Sans', Arial, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2rem; margin-top: 2.2rem; }
.sub { color: #666; margin-top: 0; } .note { background: #fff8e1; border-left: 4px solid #f1c40f; padding: .5rem .8rem; margin: .5rem 0; }
table { border-collapse: collapse; margin: .5rem 0 1rem; } th, td { border: 1px solid #ccc; padding: .25rem .6rem; text-align: left; font-size: .9rem; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.figures { display: flex; flex-wrap: wrap; gap: 1.2rem; } figure { margin: 0; } figcaption { font-size: .85rem; color: #555; max-width: 480px; }
.gallery { display: flex; flex-wrap: wrap; gap: .8rem; } .film { width: 165px; font-size: .8rem; } .film img { width: 165px; border: 3px solid #27ae60; box-sizing: border-box; }
.film.wrong img { border-color: #c0392b; } .avg img { height: 320px; max-width: 100%; object-fit: contain; } .path { color: #777; word-break: break-all; }
`;

export function renderReportHtml(page: ReportPage): string {
  const e = escapeHtml;
  const figure = (f: ReportFigure) =>
    `<figure id="figure-${e(f.name)}" data-figure="${e(f.name)}">${f.svg}<figcaption><b>${e(f.title)}.</b> ${e(f.caption)}</figcaption></figure>`;
  const byName = new Map(page.figures.map((f) => [f.name, f]));
  const figures = (names: string[]) =>
    `<div class="figures">${names.flatMap((n) => (byName.has(n) ? [figure(byName.get(n)!)] : [])).join('\n')}</div>`;
  const total = (r: SplitRow) => r.female + r.male;
  const sum = (k: 'female' | 'male') => page.splits.reduce((s, r) => s + r[k], 0);
  const splitTable = page.splits.length
    ? `<table id="table-split"><tr><th>split</th><th class="num">female</th><th class="num">male</th><th class="num">total</th></tr>${page.splits
        .map(
          (r) =>
            `<tr><td>${r.split}</td><td class="num">${r.female}</td><td class="num">${r.male}</td><td class="num">${total(r)}</td></tr>`,
        )
        .join(
          '',
        )}<tr><th>all</th><th class="num">${sum('female')}</th><th class="num">${sum('male')}</th><th class="num">${sum('female') + sum('male')}</th></tr></table>`
    : '<p>No split.json in the run.</p>';
  const rows = (pairs: [string, string][], id: string) =>
    `<table id="${id}">${pairs.map(([k, v]) => `<tr><th>${e(k)}</th><td>${e(v)}</td></tr>`).join('')}</table>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>spine-cli report: ${e(page.runDir)}</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<h1>spine-cli training report</h1>
<p class="sub">${e(page.runDir)} &middot; generated ${e(page.generatedAt)}</p>
<p id="headline">${e(page.headline)}</p>
${page.notes.map((n) => `<p class="note">${e(n)}</p>`).join('\n')}
<h2 id="configuration">Configuration</h2>
${rows(page.config, 'table-config')}
<h2 id="data">Data split</h2>
<p>Films per class in each split (as in the paper's Tables 1 and 5).</p>
${splitTable}
${figures(['split-counts'])}
<h2 id="training">Training</h2>
${figures(['loss', 'accuracy', 'learning-rate'])}
<h2 id="evaluation">Test evaluation</h2>
${page.metrics.length ? rows(page.metrics, 'table-metrics') : '<p>No test evaluation in this run (no test split, or training did not finish).</p>'}
${figures(['confusion', 'roc', 'calibration'])}
<h2 id="gradcam">Where the network looks (Grad-CAM)</h2>
${explainedSection(page)}
</body>
</html>
`;
}

function explainedSection(page: ReportPage): string {
  const x = page.explained;
  if (!x) return `<p>${escapeHtml(page.explainedMissing ?? 'No Grad-CAM pictures.')}</p>`;
  const e = escapeHtml;
  const dataUri = (png: Uint8Array) => `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
  const film = (f: GalleryFilm) =>
    `<figure class="film${f.correct ? '' : ' wrong'}" data-film="${e(f.file)}"><img alt="Grad-CAM of ${e(f.file)}" src="${dataUri(f.png)}"><figcaption>true ${f.truth}, predicted ${f.predicted} (${(100 * f.confidence).toFixed(1)}%)<br><span class="path">${e(f.file)}</span></figcaption></figure>`;
  const averages = x.averages
    .map(
      (a) =>
        `<figure class="avg" data-figure="average-${a.sex}"><img alt="mean Grad-CAM, ${a.sex} films" src="${dataUri(a.png)}"><figcaption><b>${a.sex}</b>: left, the mean of ${a.films === a.of ? `the ${a.films}` : `${a.films} of the ${a.of}`} ${a.sex} test films with their mean map's 50% (green) and 80% (orange) contours; right, the mean map over that mean film (each film explained for its true sex)</figcaption></figure>`,
    )
    .join('\n');
  return `<p>Grad-CAM of ${e(x.layer)}: the class logit's gradient, averaged over each channel, weights the channels of that activation; red is where the evidence for the class is strongest. Maps are scaled to their own maximum.</p>
<h3>Per class, over the test set</h3>
<div class="figures" id="gradcam-averages">${averages}</div>
<h3>Most confident correct predictions</h3>
<div class="gallery" id="gallery-right">${x.right.map(film).join('\n') || '<p>None.</p>'}</div>
<h3>Most confident wrong predictions</h3>
<div class="gallery" id="gallery-wrong">${x.wrong.map(film).join('\n') || '<p>None: every test film was classified correctly.</p>'}</div>
${x.unreadable.length ? `<p class="note">${x.unreadable.length} test film(s) could not be read: ${e(x.unreadable.join('; '))}</p>` : ''}`;
}
