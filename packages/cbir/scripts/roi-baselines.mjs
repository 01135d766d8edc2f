// Baselines for the README's ROI accuracy table: the mean reference ROI (no retrieval) and a
// random reference, against the true boxes in a labels.csv. Films of one set share a size.
// Usage: node scripts/roi-baselines.mjs INDEX.json LABELS.csv FILM_WIDTH FILM_HEIGHT
import { readFileSync } from 'fs';
import { RoiIndex, centreDistance, iou, distribution } from '@spine/cbir';
const [indexPath, labelsPath] = process.argv.slice(2);
const index = RoiIndex.fromJSON(JSON.parse(readFileSync(indexPath, 'utf8')));
const rows = readFileSync(labelsPath, 'utf8')
  .trim()
  .split('\n')
  .map((l) => l.split(','));
const h = rows[0];
const c = (n) => h.indexOf(n);
const rel = index.references.map((r) => ({
  cx: (r.roi.x + r.roi.width / 2) / r.width,
  cy: (r.roi.y + r.roi.height / 2) / r.height,
  w: r.roi.width / r.width,
  h: r.roi.height / r.height,
}));
const mean = (k) => rel.reduce((a, r) => a + r[k], 0) / rel.length;
const m = { cx: mean('cx'), cy: mean('cy'), w: mean('w'), h: mean('h') };
const W = Number(process.argv[4]),
  H = Number(process.argv[5]);
let s = 1;
const rnd = () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
const errMean = [],
  iouMean = [],
  errRand = [],
  iouRand = [];
for (const r of rows.slice(1)) {
  const t = { x: +r[c('roi_x')], y: +r[c('roi_y')], width: +r[c('roi_width')], height: +r[c('roi_height')] };
  const box = (q) => ({ x: (q.cx - q.w / 2) * W, y: (q.cy - q.h / 2) * H, width: q.w * W, height: q.h * H });
  const bm = box(m);
  errMean.push((centreDistance(bm, t) * 1462) / W);
  iouMean.push(iou(bm, t));
  const br = box(rel[Math.floor(rnd() * rel.length)]);
  errRand.push((centreDistance(br, t) * 1462) / W);
  iouRand.push(iou(br, t));
}
const f = (d) => `median ${d.median.toFixed(1)} p90 ${d.p90.toFixed(1)} mean ${d.mean.toFixed(1)}`;
console.log(
  'mean ROI  centre err (px@1462):',
  f(distribution(errMean)),
  ' IoU median',
  distribution(iouMean).median.toFixed(3),
);
console.log(
  'random ref centre err (px@1462):',
  f(distribution(errRand)),
  ' IoU median',
  distribution(iouRand).median.toFixed(3),
);
