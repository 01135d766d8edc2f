import { describe, expect, it } from 'vitest';
import {
  blendHeatmap,
  colormap,
  contactSheet,
  createImage,
  crop,
  decodeImage,
  drawRect,
  encodePng,
  equaliseHistogram,
  flip,
  imageFromData,
  normaliseMinMax,
  percentile,
  percentileWindow,
  resize,
  resizeShorterSide,
  rotate,
  standardise,
  toGrey,
  toRgb,
  type Image,
} from '../src/index.js';

const ramp = (w: number, h: number): Image =>
  imageFromData(
    w,
    h,
    1,
    Float32Array.from({ length: w * h }, (_, i) => (i % w) / (w - 1)),
  );

describe('PNG encode round trip', () => {
  it('8-bit and 16-bit, 1-4 channels', () => {
    for (const channels of [1, 2, 3, 4] as const) {
      const img = imageFromData(
        5,
        3,
        channels,
        Float32Array.from({ length: 15 * channels }, (_, i) => ((i * 37) % 101) / 100),
      );
      for (const bitDepth of [8, 16] as const) {
        const back = decodeImage(encodePng(img, { bitDepth }));
        expect([back.channels, back.bitDepth]).toEqual([channels, bitDepth]);
        const tol = bitDepth === 8 ? 0.5 / 255 + 1e-6 : 0.5 / 65535 + 1e-6;
        img.data.forEach((v, i) => expect(Math.abs(back.data[i]! - v)).toBeLessThanOrEqual(tol));
      }
    }
  });
});

describe('resize', () => {
  it('area-averages when shrinking: a fine checkerboard becomes flat grey, not moire', () => {
    const w = 2048;
    const h = 2487;
    const data = new Float32Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = (x + y) % 2;
    const small = resize(imageFromData(w, h, 1, data), 224, 224);
    for (const v of small.data) expect(v).toBeCloseTo(0.5, 2);
  });
  it('keeps the mean when shrinking by a non-integer factor', () => {
    const img = ramp(101, 7);
    const mean = (im: Image): number => im.data.reduce((a, b) => a + b, 0) / im.data.length;
    expect(mean(resize(img, 13, 3))).toBeCloseTo(mean(img), 5);
  });
  it('bilinear with half-pixel centres when enlarging (matches PyTorch align_corners=False)', () => {
    const img = imageFromData(2, 1, 1, Float32Array.from([0, 1]));
    expect(Array.from(resize(img, 4, 1).data)).toEqual([0, 0.25, 0.75, 1]);
  });
  it('shorter side like torchvision Resize(256)', () => {
    const out = resizeShorterSide(createImage(2048, 2487), 256);
    expect([out.width, out.height]).toEqual([256, 310]);
  });
});

describe('geometry', () => {
  const img = imageFromData(3, 2, 1, Float32Array.from([1, 2, 3, 4, 5, 6]));
  it('crop pads outside the image', () => {
    const c = crop(img, { x: -1, y: 1, width: 3, height: 2 }, 9);
    expect(Array.from(c.data)).toEqual([9, 4, 5, 9, 9, 9]);
  });
  it('flip', () => {
    expect(Array.from(flip(img, 'horizontal').data)).toEqual([3, 2, 1, 6, 5, 4]);
    expect(Array.from(flip(img, 'vertical').data)).toEqual([4, 5, 6, 1, 2, 3]);
  });
  it('rotate 90 degrees counter-clockwise on a square is exact', () => {
    const sq = imageFromData(2, 2, 1, Float32Array.from([1, 2, 3, 4]));
    expect(Array.from(rotate(sq, 90).data)).toEqual([2, 4, 1, 3]);
    expect(Array.from(rotate(sq, 360).data)).toEqual([1, 2, 3, 4]);
  });
  it('rotate by a small angle keeps the centre and fills corners', () => {
    const r = rotate(createImage(21, 21, 1, 1), 45, { fill: 0 });
    expect(r.data[10 * 21 + 10]).toBeCloseTo(1, 5);
    expect(r.data[0]).toBe(0);
  });
});

describe('intensity', () => {
  it('normalise and standardise', () => {
    const n = normaliseMinMax(imageFromData(3, 1, 1, Float32Array.from([2, 4, 6])));
    expect(Array.from(n.data)).toEqual([0, 0.5, 1]);
    const s = standardise(toRgb(n), [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]);
    expect(s.data[0]).toBeCloseTo(-0.485 / 0.229, 5);
  });
  it('percentile and percentile windowing ignore outliers', () => {
    const data = Float32Array.from({ length: 1000 }, (_, i) => 0.4 + (i / 999) * 0.2);
    data[0] = 0;
    data[999] = 1;
    expect(percentile(data, 50)).toBeCloseTo(0.5, 2);
    const w = percentileWindow(imageFromData(1000, 1, 1, data), 1, 99);
    expect(w.data[500]).toBeCloseTo(0.5, 1);
    expect(w.data[0]).toBe(0);
    expect(w.data[999]).toBe(1);
  });
  it('histogram equalisation spreads a narrow range over [0, 1]', () => {
    const img = imageFromData(
      256,
      1,
      1,
      Float32Array.from({ length: 256 }, (_, i) => 0.4 + (i / 255) * 0.1),
    );
    const eq = equaliseHistogram(img);
    expect(eq.data[0]).toBe(0);
    expect(eq.data[255]).toBe(1);
    expect(eq.data[128]).toBeGreaterThan(0.3);
  });
});

describe('drawing and figures', () => {
  it('drawRect outlines and clips', () => {
    const img = drawRect(createImage(5, 5), { x: 1, y: 1, width: 3, height: 3 }, 1);
    expect(img.data[2 * 5 + 2]).toBe(0);
    expect(img.data[1 * 5 + 1]).toBe(1);
    expect(img.data[3 * 5 + 3]).toBe(1);
    drawRect(img, { x: -10, y: -10, width: 100, height: 100 }, 0.5, 2);
  });
  it('colormap ends and heat-map blend', () => {
    expect(colormap('grey', 0.25)).toEqual([0.25, 0.25, 0.25]);
    expect(colormap('jet', 1)[0]).toBeCloseTo(0.5);
    const base = createImage(8, 8, 1, 0.5);
    const heat = imageFromData(2, 2, 1, Float32Array.from([0, 0, 0, 1]));
    const out = blendHeatmap(base, heat, { colormap: 'jet', alpha: 0.4 });
    expect([out.width, out.height, out.channels]).toEqual([8, 8, 3]);
    expect(out.data[(7 * 8 + 7) * 3]).toBeGreaterThan(out.data[0]!); // hot corner is redder
  });
  it('contact sheet tiles images, grey stays grey', () => {
    const sheet = contactSheet([createImage(40, 60, 1, 1), createImage(60, 40, 1, 0.5), ramp(10, 10)], {
      columns: 2,
      cellWidth: 30,
      cellHeight: 30,
      gap: 2,
    });
    expect([sheet.width, sheet.height, sheet.channels]).toEqual([2 * 30 + 3 * 2, 2 * 30 + 3 * 2, 1]);
    expect(toGrey(sheet)).toBe(sheet);
  });
});
