import type { DrawContext } from './draw-context.js';
import type { SubjectParams } from './phantom.js';
import type { Point } from './raster.js';
import { mixSeed, createRng } from './prng.js';
import { drawVertebra } from './vertebra.js';

/**
 * Lateral lumbar film, patient facing left: T12-L5 with discs, sacrum, lower ribs, iliac crest,
 * abdominal soft tissue with bowel gas, and in most women a breast shadow over the upper lumbar
 * region. Origin is the centre of L3; units are mm.
 */
export function drawLumbar(ctx: DrawContext, p: SubjectParams, filmHeightMm: number): void {
  const D = p.bodyDepth;
  const Hb = p.bodyHeight;
  const disc = (5 + 6 * p.discFactor) * (Hb / 27);
  const step = Hb + disc;
  const bone = p.boneDensity;
  // T12..L5 centres on a lordotic curve bulging anteriorly (-x), deepest at L3-L4.
  const levels = [0, 1, 2, 3, 4, 5].map((k) => {
    const t = (k + 0.5) / 6.6;
    const x = -p.lordosis * Math.sin(Math.PI * t) + (k - 3) * 3;
    const slope = (-p.lordosis * Math.PI * Math.cos(Math.PI * t)) / (6.6 * step) + 3 / step;
    return { x, y: (k - 3) * step, angle: -Math.atan(slope) };
  });
  const back = D / 2;
  const postSkin = back + p.canalDepth + 75;
  const antSkin = postSkin - p.softTissueDepth;
  const top = -filmHeightMm;
  const bottom = filmHeightMm;

  // Trunk soft tissue (thick: the beam crosses the whole abdomen), a bulging belly, back muscles.
  // Layered like the neck: the trunk is thickest across the middle of its AP depth.
  const depth = postSkin - antSkin;
  for (let layer = 0; layer < 8; layer++) {
    const d = layer * 0.03 * depth;
    const value = layer === 0 ? 0.27 : 0.048;
    const trunk: Point[] = [];
    for (let y = top; y <= bottom; y += 10) trunk.push([antSkin + d - 12 * Math.exp(-(((y - 40) / 120) ** 2)), y]);
    for (let y = bottom; y >= top; y -= 10) trunk.push([postSkin - d + 4 * Math.sin(y / 60), y]);
    ctx.softPoly(trunk, value);
  }
  ctx.softEllipse(back + p.canalDepth + 40, 0, 38, 220, 0, 0.12);

  // Bowel gas in front of the spine.
  const gas = createRng(mixSeed(Math.round(D * 1000), Math.round(Hb * 1000)));
  for (let g = 0; g < p.nuisance.gasPockets; g++) {
    ctx.ellipse(
      gas.uniform(antSkin + 25, -D / 2 - 10),
      gas.uniform(-60, 130),
      gas.uniform(8, 22),
      gas.uniform(6, 14),
      gas.uniform(0, 3),
      -0.18,
    );
  }
  // Breast shadow over T12-L2, in front (mostly women; size from the phantom).
  if (p.breast > 0.05) {
    const r = 55 + 45 * p.breast;
    ctx.softEllipse(antSkin - r * 0.35, levels[0]!.y - 60 - r * 0.3, r * 1.05, r, 0.2, 0.18 + 0.12 * p.breast);
  }
  // Lower ribs crossing the thoracolumbar junction as arcs running down and forward.
  for (let r = 0; r < 3; r++) {
    const y0 = levels[0]!.y - 70 + r * 32;
    const arc: Point[] = [];
    for (let t = 0; t <= 1.0001; t += 0.125) arc.push([postSkin - 30 - t * 190, y0 + 50 * t * t + 30 * t]);
    ctx.band(arc, 9, 0.2 * bone);
  }
  // Iliac wing with a bright crest at about the L4-L5 disc.
  const crestY = (levels[4]!.y + levels[5]!.y) / 2 + 5;
  const wing: Point[] = [];
  for (let t = 0; t <= 1.0001; t += 0.1) wing.push([-95 + 190 * t, crestY + 28 * (2 * t - 1) ** 2]);
  wing.push([80, crestY + 190], [-70, crestY + 190]);
  ctx.poly(wing, 0.28 * bone);
  const crest: Point[] = [];
  for (let t = 0; t <= 1.0001; t += 0.1) crest.push([-95 + 190 * t, crestY + 28 * (2 * t - 1) ** 2]);
  ctx.band(crest, 5, 0.25 * bone);

  levels.forEach((lv, k) => {
    drawVertebra(ctx, {
      cx: lv.x,
      cy: lv.y,
      angle: lv.angle,
      depth: D * (k === 0 ? 0.9 : 1),
      height: Hb * (k === 0 ? 0.92 : 1),
      canal: p.canalDepth,
      bone: bone * 1.35, // lumbar bodies are thicker across the beam than cervical ones
      osteophyte: p.osteophytes * 1.6,
      spinousLength: 28 * (D / 43),
      spinousSlope: 0.05 + 0.02 * k,
      lumbar: true,
    });
  });
  // Sacrum: a wedge tilted back and down from below L5, with S1's endplate on top.
  const l5 = levels[5]!;
  const sTop = l5.y + Hb / 2 + disc * 0.8;
  const sx = l5.x + 6;
  const sacrum: Point[] = [
    [sx - D / 2, sTop],
    [sx + D / 2 + 4, sTop - 5],
    [sx + D / 2 + 30, sTop + 45],
    [sx + D / 2 + 48, sTop + 100],
    [sx + D / 2 + 36, sTop + 118],
    [sx + 8, sTop + 70],
    [sx - D / 2 + 8, sTop + 30],
  ];

  ctx.poly(sacrum, 0.36 * bone, true);
  ctx.poly(
    sacrum.map(([x, y]) => [x * 0.92 + sx * 0.08 + 2, y * 0.92 + sTop * 0.08 + 3] as Point),
    -0.12 * bone,
  );
}
