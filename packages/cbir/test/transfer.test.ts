import { describe, expect, it } from 'vitest';
import {
  PAPER_CROP,
  centreDistance,
  containment,
  cropSide,
  distribution,
  iou,
  paddingFraction,
  shiftInside,
  transferRoi,
} from '../src/index.js';

describe('ROI transfer', () => {
  it('maps the match ROI centre into a query of the same size and centres a 1400 px square on it', () => {
    const t = transferRoi(
      { width: 1462, height: 1755, roi: { x: 600, y: 400, width: 500, height: 900 } },
      { width: 1462, height: 1755 },
    );
    expect(t.centre).toEqual({ x: 850, y: 850 });
    expect(t.box).toEqual({ x: 150, y: 150, width: 1400, height: 1400 });
    expect(t.roi).toEqual({ x: 600, y: 400, width: 500, height: 900 });
  });

  it('scales the centre by each axis and the square by the query width when sizes differ', () => {
    // A 128x154 reference matched to a full-size query: x scales by 1462/128, y by 1755/154.
    const t = transferRoi(
      { width: 128, height: 154, roi: { x: 60, y: 30, width: 50, height: 80 } },
      { width: 1462, height: 1755 },
    );
    expect(t.centre.x).toBeCloseTo(85 * (1462 / 128), 10);
    expect(t.centre.y).toBeCloseTo(70 * (1755 / 154), 10);
    expect(t.box.width).toBe(1400);
    // The other way round: the square shrinks with the film (1400 * 128 / 1462 = 122.6 -> 123).
    const small = transferRoi(
      { width: 1462, height: 1755, roi: { x: 600, y: 400, width: 500, height: 900 } },
      { width: 128, height: 154 },
    );
    expect(small.box.width).toBe(123);
    expect(cropSide(128, PAPER_CROP)).toBe(123);
    expect(cropSide(256, { side: 100, atWidth: 128 })).toBe(200);
  });

  it('lets the square leave the film (the crop pads it) rather than moving the centre', () => {
    const t = transferRoi(
      { width: 100, height: 100, roi: { x: 0, y: 0, width: 10, height: 10 } },
      { width: 100, height: 100 },
      { side: 50, atWidth: 100 },
    );
    expect(t.box).toEqual({ x: -20, y: -20, width: 50, height: 50 });
    expect(paddingFraction(t.box, { width: 100, height: 100 })).toBeCloseTo(1 - (30 * 30) / (50 * 50), 12);
  });

  it('keepInside shifts the square onto the film at every edge and corner, by the least distance', () => {
    const film = { width: 100, height: 80 };
    const at = (x: number, y: number) => shiftInside({ x, y, width: 50, height: 50 }, film);
    expect(at(-20, -7)).toEqual({ x: 0, y: 0, width: 50, height: 50 });
    expect(at(70, 45)).toEqual({ x: 50, y: 30, width: 50, height: 50 });
    expect(at(-1, 30)).toEqual({ x: 0, y: 30, width: 50, height: 50 });
    expect(at(51, 31)).toEqual({ x: 50, y: 30, width: 50, height: 50 });
    expect(at(50, 30)).toEqual({ x: 50, y: 30, width: 50, height: 50 }); // touching the far edges: already inside
    expect(at(10, 12)).toEqual({ x: 10, y: 12, width: 50, height: 50 });
    for (const [x, y] of [
      [-20, -7],
      [70, 45],
      [-1, 30],
      [51, 31],
      [10, 12],
    ] as const)
      expect(paddingFraction(at(x, y), film)).toBe(0);
    // Through transferRoi: the paper's square on a full-size film with the ROI near the left edge.
    const reference = { width: 1462, height: 1755, roi: { x: 0, y: 600, width: 400, height: 500 } };
    const centred = transferRoi(reference, { width: 1462, height: 1755 });
    expect(centred.box.x).toBe(200 - 700);
    expect(paddingFraction(centred.box, { width: 1462, height: 1755 })).toBeCloseTo(500 / 1400, 12);
    const inside = transferRoi(reference, { width: 1462, height: 1755 }, { ...PAPER_CROP, keepInside: true });
    expect(inside.box).toEqual({ x: 0, y: centred.box.y, width: 1400, height: 1400 });
    expect(inside.centre).toEqual(centred.centre); // the ROI centre is still reported where it is
    expect(paddingFraction(inside.box, { width: 1462, height: 1755 })).toBe(0);
  });

  it('keepInside centres the square on the film along an axis where it is longer than the film, padding only there', () => {
    // 123 px square on a 128x100 film: fits across, not down.
    const box = shiftInside({ x: -10, y: 40, width: 123, height: 123 }, { width: 128, height: 100 });
    expect(box).toEqual({ x: 0, y: -11, width: 123, height: 123 }); // 11 rows padded above, 12 below
    expect(paddingFraction(box, { width: 128, height: 100 })).toBeCloseTo(1 - 100 / 123, 12);
    // Longer than the film both ways: centred both ways.
    expect(shiftInside({ x: 5, y: 5, width: 10, height: 10 }, { width: 6, height: 9 })).toEqual({
      x: -2,
      y: 0,
      width: 10,
      height: 10,
    });
    // A box wholly off the film is all padding.
    expect(paddingFraction({ x: 200, y: 0, width: 10, height: 10 }, { width: 100, height: 100 })).toBe(1);
  });
});

describe('evaluation', () => {
  it('iou, containment and centre distance on hand-computed boxes', () => {
    const a = { x: 0, y: 0, width: 10, height: 10 };
    const b = { x: 5, y: 0, width: 10, height: 10 };
    expect(iou(a, b)).toBeCloseTo(50 / 150, 12);
    expect(iou(a, { x: 20, y: 20, width: 1, height: 1 })).toBe(0);
    expect(iou(a, a)).toBe(1);
    expect(containment({ x: -5, y: -5, width: 100, height: 100 }, a)).toBe(1);
    expect(containment(b, a)).toBe(0.5);
    expect(centreDistance(a, { x: 3, y: 4, width: 10, height: 10 })).toBe(5);
  });

  it('distribution gives numpy-style interpolated percentiles', () => {
    const d = distribution([5, 1, 4, 2, 3]);
    expect(d).toMatchObject({ n: 5, mean: 3, min: 1, median: 3, max: 5 });
    expect(d.p10).toBeCloseTo(1.4, 12);
    expect(d.p90).toBeCloseTo(4.6, 12);
    expect(distribution([]).n).toBe(0);
  });
});
