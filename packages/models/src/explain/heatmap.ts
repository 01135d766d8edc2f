/**
 * From a Grad-CAM map to pictures: bilinear upsampling (PyTorch's F.interpolate, bilinear,
 * align_corners=False, the usual way Grad-CAM maps reach the image), and the overlay of the
 * colour-mapped map on the film as the network saw it.
 */
import { blendHeatmap, resize, toGrey, type ColormapName, type Image } from '@spine/imaging';
import { preprocess, type TransformConfig } from '../data/transform.js';

/** map [h, w] -> [outH, outW], bilinear with half-pixel centres (align_corners=False). */
export function upsampleBilinear(
  map: ArrayLike<number>,
  h: number,
  w: number,
  outH: number,
  outW: number,
): Float32Array {
  if (map.length !== h * w) throw new RangeError(`upsampleBilinear: ${map.length} values for ${h}x${w}`);
  const ys = axis(h, outH);
  const xs = axis(w, outW);
  const out = new Float32Array(outH * outW);
  for (let y = 0; y < outH; y++) {
    const [y0, y1, fy] = ys[y]!;
    for (let x = 0; x < outW; x++) {
      const [x0, x1, fx] = xs[x]!;
      const top = map[y0 * w + x0]! * (1 - fx) + map[y0 * w + x1]! * fx;
      const bottom = map[y1 * w + x0]! * (1 - fx) + map[y1 * w + x1]! * fx;
      out[y * outW + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

function axis(n: number, out: number): [number, number, number][] {
  const scale = n / out;
  return Array.from({ length: out }, (_, i) => {
    const src = Math.max(0, (i + 0.5) * scale - 0.5);
    const i0 = Math.min(Math.floor(src), n - 1);
    const i1 = Math.min(i0 + 1, n - 1);
    return [i0, i1, src - i0];
  });
}

/** The map divided by its maximum (an all-zero map stays zero): 1 = where the class evidence peaks. */
export function scaleToMax(map: ArrayLike<number>): Float32Array {
  let max = 0;
  for (let i = 0; i < map.length; i++) max = Math.max(max, map[i]!);
  const out = new Float32Array(map.length);
  if (max > 0) for (let i = 0; i < map.length; i++) out[i] = map[i]! / max;
  return out;
}

export interface OverlayOptions {
  /** Longest side of the picture in pixels (default 512; never larger than the film). */
  maxSide?: number;
  /** Opacity of the heat colours (default 0.45). */
  alpha?: number;
  colormap?: ColormapName;
}

/**
 * The film as the network saw it (grey; the stretch transform is undone by keeping the film's
 * aspect, a centre crop is repeated at display size) with the map upsampled onto it. The map is
 * scaled to its own maximum. Returns RGB.
 */
export function camOverlay(
  film: Image,
  map: ArrayLike<number>,
  h: number,
  w: number,
  transform: Pick<TransformConfig, 'width' | 'height' | 'resize'>,
  options: OverlayOptions = {},
): Image {
  const maxSide = options.maxSide ?? 512;
  let base: Image;
  if ((transform.resize ?? 'stretch') === 'stretch') {
    const s = Math.min(1, maxSide / Math.max(film.width, film.height));
    base = resize(toGrey(film), Math.max(1, Math.round(film.width * s)), Math.max(1, Math.round(film.height * s)));
  } else {
    const s = Math.min(
      maxSide / Math.max(transform.width, transform.height),
      Math.max(film.width, film.height) / Math.max(transform.width, transform.height),
    );
    base = preprocess(film, {
      ...transform,
      width: Math.max(1, Math.round(transform.width * s)),
      height: Math.max(1, Math.round(transform.height * s)),
    });
  }
  return heatOnImage(base, map, h, w, options);
}

/** A grey image with a [h, w] map upsampled onto it (the map scaled to its maximum). */
export function heatOnImage(
  base: Image,
  map: ArrayLike<number>,
  h: number,
  w: number,
  options: Pick<OverlayOptions, 'alpha' | 'colormap'> = {},
): Image {
  const heat = upsampleBilinear(scaleToMax(map), h, w, base.height, base.width);
  return blendHeatmap(
    base,
    { width: base.width, height: base.height, channels: 1, data: heat, bitDepth: 8 },
    { alpha: options.alpha ?? 0.45, colormap: options.colormap ?? 'jet', normalise: false },
  );
}
