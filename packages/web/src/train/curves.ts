/** Loss and accuracy per epoch (training and validation) as small line charts on canvases. */
import type { EpochMetrics } from '@spine/models/browser';

const COLORS = { train: '#0b5fff', val: '#d93025' };

export function drawCurves(
  canvas: HTMLCanvasElement,
  history: readonly EpochMetrics[],
  epochs: number,
  what: 'loss' | 'accuracy',
): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const w = canvas.width;
  const h = canvas.height;
  const pad = { left: 40, right: 8, top: 18, bottom: 22 };
  ctx.clearRect(0, 0, w, h);
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = getComputedStyle(canvas).color;
  ctx.strokeStyle = ctx.fillStyle;
  const series = {
    train: history.map((m) => (what === 'loss' ? m.trainLoss : m.trainAccuracy)),
    val: history.map((m) => (what === 'loss' ? m.valLoss : m.valAccuracy)).filter((v): v is number => v !== undefined),
  };
  const all = [...series.train, ...series.val];
  const top = what === 'accuracy' ? 1 : Math.max(1e-6, ...all) * 1.05;
  const bottom = what === 'accuracy' ? Math.min(0.5, ...all) : 0;
  const x = (epoch: number) => pad.left + ((epoch - 1) / Math.max(1, epochs - 1)) * (w - pad.left - pad.right);
  const y = (v: number) => pad.top + (1 - (v - bottom) / Math.max(1e-9, top - bottom)) * (h - pad.top - pad.bottom);
  ctx.globalAlpha = 0.6;
  ctx.beginPath();
  ctx.moveTo(pad.left, pad.top);
  ctx.lineTo(pad.left, h - pad.bottom);
  ctx.lineTo(w - pad.right, h - pad.bottom);
  ctx.stroke();
  ctx.globalAlpha = 1;
  ctx.fillText(what === 'loss' ? 'loss' : 'accuracy', pad.left, 11);
  ctx.fillText(top.toFixed(2), 2, pad.top + 4);
  ctx.fillText(bottom.toFixed(2), 2, h - pad.bottom);
  ctx.fillText(`epoch ${epochs}`, w - pad.right - 52, h - 6);
  for (const [name, values] of Object.entries(series) as ['train' | 'val', number[]][]) {
    if (values.length === 0) continue;
    ctx.strokeStyle = COLORS[name];
    ctx.fillStyle = COLORS[name];
    ctx.lineWidth = 2;
    ctx.beginPath();
    values.forEach((v, i) => (i === 0 ? ctx.moveTo(x(i + 1), y(v)) : ctx.lineTo(x(i + 1), y(v))));
    ctx.stroke();
    for (const [i, v] of values.entries()) ctx.fillRect(x(i + 1) - 2, y(v) - 2, 4, 4);
    ctx.fillText(name === 'train' ? 'training' : 'validation', w - pad.right - 70, name === 'train' ? 11 : 24);
  }
  ctx.lineWidth = 1;
}
