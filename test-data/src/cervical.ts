import type { DrawContext } from './draw-context.js';
import type { SubjectParams } from './phantom.js';
import type { Point } from './raster.js';
import { drawVertebra } from './vertebra.js';

const SPINOUS = [24, 15, 16, 17, 21, 27]; // C2..C7 lengths in mm (C7 vertebra prominens)

/**
 * Lateral cervical film, patient facing left: skull base and occiput top right, mandible top
 * left, C1-C7, airway, neck soft tissue with the laryngeal prominence, shoulders low. Origin is
 * the centre of C4; units are mm.
 */
export function drawCervical(ctx: DrawContext, p: SubjectParams, filmHeightMm: number): void {
  const D = p.bodyDepth;
  const Hb = p.bodyHeight;
  const disc = (3.2 + 2.3 * p.discFactor) * (Hb / 13);
  const step = Hb + disc;
  const T = p.softTissueDepth;
  // Centres of C2..C7 along a lordotic curve bulging anteriorly (-x).
  const levels = [0, 1, 2, 3, 4, 5].map((k) => {
    const y = (k - 2) * step - (k === 0 ? Hb * 0.25 : 0);
    const t = (k + 0.5) / 6;
    const x = -p.lordosis * Math.sin(Math.PI * t) + (k - 2.5) * 2.2;
    const slope = (-p.lordosis * Math.PI * Math.cos(Math.PI * t)) / (6 * step) + 2.2 / step;
    return { x, y, angle: -Math.atan(slope) * 0.9 };
  });
  const top = levels[0]!.y - Hb * 1.6;
  const front = (k: number): number => levels[Math.min(5, Math.max(0, k))]!.x - D / 2;

  // Neck soft tissue: anterior skin (with larynx bump near C4-C5) and posterior skin line.
  const antSkin = (y: number): number => {
    const neck = -0.5 * T + levels[3]!.x * 0.3 + (y - levels[3]!.y) * 0.12;
    const bump = p.larynx * Math.exp(-(((y - (levels[2]!.y + levels[3]!.y) / 2) / 9) ** 2));
    return neck - bump;
  };
  const postSkin = (y: number): number => 0.5 * T + 6 + (y - levels[3]!.y) * -0.05;
  const bottom = filmHeightMm;
  // The neck is roughly a cylinder, so the path through it (and the film density) falls off toward
  // the skin: draw the outline and seven inset copies (a terraced ramp the blur smooths).
  for (let layer = 0; layer < 8; layer++) {
    const d = layer * 0.035 * T;
    const value = layer === 0 ? 0.27 : 0.045;
    const skin: Point[] = [];
    for (let y = top - 20; y <= bottom; y += 6) skin.push([antSkin(y) + d, y]);
    for (let y = bottom; y >= top - 160; y -= 8) skin.push([postSkin(y) - d + Math.max(0, top - y) * 0.6, y]);
    ctx.softPoly(skin, value);
  }
  // Face and chin soft tissue, above and in front of the neck.
  ctx.softEllipse(antSkin(top) - 5, top - 50, 60, 55, 0.3, 0.35);

  // Skull: rounded cranium top right, denser skull base, mastoid behind C1.
  const c2x = levels[0]!.x;
  ctx.ellipse(c2x + 25, top - 105, 120, 90, -0.15, 0.55 * p.boneDensity);
  ctx.poly(
    [
      [c2x - 30, top - 30],
      [c2x + D / 2 + p.canalDepth + 30, top - 10],
      [postSkin(top) + 30, top - 40],
      [postSkin(top), top - 120],
      [c2x - 30, top - 90],
    ],
    0.35 * p.boneDensity,
  );
  ctx.ellipse(c2x + D / 2 + 16, top - 12, 9, 13, 0.2, 0.3 * p.boneDensity);
  // Mandible: ramus rising to the skull base, angle near C2-C3, body running forward.
  const angX = front(1) - 28;
  const angY = levels[1]!.y - 6;
  ctx.band(
    [
      [c2x - 14, top - 30],
      [angX + 4, angY - 12],
      [angX - 4, angY],
      [angX - 40, angY - 8],
      [angX - 85, angY - 18],
    ],
    12,
    0.4 * p.boneDensity,
  );
  // Hyoid at C3, in front of the airway.
  ctx.ellipse(front(1) - 34, levels[1]!.y + step * 0.6, 7, 2.6, -0.3, 0.4 * p.boneDensity);

  // Airway (pharynx -> larynx -> trachea): air removes attenuating tissue.
  const airway: Point[] = [];
  // Smooth anterior line of the spine, interpolated between body centres.
  const frontAt = (k: number): number => {
    const i = Math.min(4, Math.max(0, Math.floor(k)));
    const f = Math.min(1.5, Math.max(-1.5, k - i));
    return front(i) + (front(i + 1) - front(i)) * f;
  };
  const prevert = (k: number): number => 3.5 + 10 / (1 + Math.exp(-(k - 3.3) * 2.5));
  for (let k = -1.2; k <= 6.01; k += 0.25) airway.push([frontAt(k) - prevert(k) - 1, levels[0]!.y + k * step]);
  for (let k = 6; k >= -1.21; k -= 0.25) {
    const wAir = 13 + (k > 3 ? (k - 3) * 1.5 : 0) + (k < 0.5 ? 4 : 0);
    airway.push([frontAt(k) - prevert(k) - 1 - wAir, levels[0]!.y + k * step]);
  }
  ctx.poly(airway, -0.22);
  if (p.thyroidCalcified) {
    // Calcified thyroid cartilage: a bright shield outline in front of the airway at C4-C5.
    const cx = front(3) - prevert(3) - 22;
    const cy = (levels[2]!.y + levels[3]!.y) / 2 + 4;
    ctx.ellipse(cx, cy, 9, 14, 0.25, 0.3 * p.boneDensity);
    ctx.ellipse(cx + 1, cy, 6.5, 11, 0.25, -0.24 * p.boneDensity);
  }

  // C1: anterior arch and posterior arch; dens rises from C2 behind the anterior arch.
  const c2 = levels[0]!;
  ctx.ellipse(c2.x - D / 2 - 1, c2.y - Hb * 1.25, 3.5, 5.5, 0, 0.5 * p.boneDensity, true);
  ctx.ellipse(c2.x + D / 2 + p.canalDepth + 9, c2.y - Hb * 1.1, 11, 4, 0.15, 0.45 * p.boneDensity, true);
  ctx.ellipse(c2.x + 1, c2.y - Hb * 0.95, D * 0.2, Hb * 0.55, 0, 0.45 * p.boneDensity, true);

  levels.forEach((lv, k) => {
    drawVertebra(ctx, {
      cx: lv.x,
      cy: lv.y,
      angle: lv.angle,
      depth: D * (k === 0 ? 0.95 : 1),
      height: k === 0 ? Hb * 1.5 : Hb,
      canal: p.canalDepth,
      bone: p.boneDensity,
      osteophyte: k >= 2 ? p.osteophytes * (0.6 + 0.15 * k) : 0,
      spinousLength: SPINOUS[k]! * (D / 16),
      spinousSlope: 0.35 + 0.04 * k,
      lumbar: false,
    });
  });

  // Shoulders: thick overlapping soft tissue and faint humeral heads/clavicles, low in the film.
  const sy = levels[5]!.y + (p.nuisance.shoulderLevel - 0.77) * filmHeightMm + 10;
  const sh: Point[] = [];
  for (let x = -200; x <= 200; x += 10) sh.push([x, sy + 0.0011 * (x - 10) ** 2]);
  sh.push([200, bottom + 200], [-200, bottom + 200]);
  ctx.softPoly(sh, 0.75);
  ctx.ellipse(60, sy + 40, 28, 26, 0, 0.3 * p.boneDensity);
  ctx.band(
    [
      [-90, sy + 35],
      [-20, sy + 18],
      [60, sy + 10],
    ],
    9,
    0.25 * p.boneDensity,
  );
}
