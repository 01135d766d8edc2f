import { placedShape, roundedRect, type DrawContext } from './draw-context.js';
import type { Point } from './raster.js';

export interface VertebraSpec {
  cx: number;
  cy: number;
  /** Tilt of the endplates in radians (follows the lordotic curve). */
  angle: number;
  depth: number;
  height: number;
  canal: number;
  bone: number;
  /** Anterior osteophyte length in mm (age). */
  osteophyte: number;
  spinousLength: number;
  /** Downward slope of the spinous process, radians. */
  spinousSlope: number;
  /** Lumbar vertebrae have broad, horizontal "hatchet" spinous processes and big pedicles. */
  lumbar: boolean;
}

/**
 * One vertebra in lateral projection, in local coordinates u (anterior -, posterior +) and
 * v (down +): a body with a bright cortical rim over a darker trabecular core, pedicle, articular
 * pillar, lamina and spinous process. The canal is the gap between the body's back and the lamina.
 */
export function drawVertebra(ctx: DrawContext, s: VertebraSpec): void {
  const at = (pts: Point[]): Point[] => placedShape(pts, s.cx, s.cy, s.angle);
  const hw = s.depth / 2;
  const hh = s.height / 2;
  const rim = s.lumbar ? 2.2 : 1.3;
  // Body: outer shape, concave-ish anterior surface and a small antero-inferior lip.
  const body = roundedRect(hw, hh, Math.min(hw, hh) * 0.22).map(([u, v]): Point => {
    const waist = u < 0 ? 0.06 * s.depth * Math.cos((v / hh) * (Math.PI / 2)) : 0;
    return [u + waist, v];
  });
  ctx.poly(at(body), 0.5 * s.bone, true);
  ctx.poly(at(roundedRect(hw - rim, hh - rim, Math.min(hw, hh) * 0.18)), -0.2 * s.bone);
  if (s.osteophyte > 0.3) {
    const o = s.osteophyte;
    ctx.poly(
      at([
        [-hw + 1, hh - 2],
        [-hw - o, hh + o * 0.35],
        [-hw + 2, hh],
      ]),
      0.45 * s.bone,
    );
    ctx.poly(
      at([
        [-hw + 1, -hh + 2],
        [-hw - o * 0.8, -hh - o * 0.3],
        [-hw + 2, -hh],
      ]),
      0.45 * s.bone,
    );
  }
  const back = hw;
  const lam = back + s.canal;
  // Pedicle bridging body and posterior arch.
  ctx.poly(
    at([
      [back - 1, -hh * 0.55],
      [lam - 2, -hh * 0.45],
      [lam - 2, hh * 0.1],
      [back - 1, hh * 0.05],
    ]),
    0.28 * s.bone,
    true,
  );
  // Articular pillar / facets (lateral masses project over the canal's back half).
  const pw = s.lumbar ? 7 : 5.5;
  const pc = back + s.canal * 0.72;
  ctx.poly(
    at([
      [pc - pw, -hh - 2],
      [pc + pw, -hh - 0.5],
      [pc + pw, hh + 1.5],
      [pc - pw, hh],
    ]),
    0.38 * s.bone,
    true,
  );
  // Lamina and spinous process as one tapering polygon pointing back and down.
  const L = s.spinousLength;
  const dy = Math.tan(s.spinousSlope) * L;
  const th0 = s.lumbar ? s.height * 0.55 : s.height * 0.5;
  const th1 = s.lumbar ? s.height * 0.5 : s.height * 0.3;
  const sp: Point[] = [
    [lam - 2, -th0 / 2],
    [lam + L, dy - th1 / 2],
    [lam + L + th1 * 0.35, dy],
    [lam + L, dy + th1 / 2],
    [lam - 2, th0 / 2],
  ];
  ctx.poly(at(sp), 0.42 * s.bone, true);
  ctx.poly(at(sp.map(([u, v]) => [u, v * 0.55] as Point)), -0.12 * s.bone);
}
