import { ImagingError } from './errors.js';

/**
 * A decoded image: interleaved channels (grey, grey+alpha, RGB, RGBA) as Float32 in [0, 1]
 * (0 = black). Keeping every format on one scale lets resize, windowing and the network
 * preprocessing ignore where the pixels came from; `bitDepth` remembers the source precision so an
 * encoder can round-trip 16-bit data without loss.
 */
export interface Image {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 2 | 3 | 4;
  readonly data: Float32Array;
  readonly bitDepth: number;
}

export type Channels = Image['channels'];

/**
 * Largest image we agree to allocate: 2^28 pixels (16384 x 16384) is far above any radiograph
 * (NHANES films are ~2.5k x 3k), and stops a corrupt header from asking for gigabytes.
 */
export const MAX_PIXELS = 1 << 28;
export const MAX_SIDE = 65535;

/** Throws an ImagingError when dimensions are zero, non-integer or absurdly large. */
export function checkDimensions(width: number, height: number, file = '<memory>'): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new ImagingError(file, `invalid image size ${width}x${height} (must be positive integers)`);
  }
  if (width > MAX_SIDE || height > MAX_SIDE || width * height > MAX_PIXELS) {
    throw new ImagingError(
      file,
      `image size ${width}x${height} exceeds the limit of ${MAX_PIXELS} pixels (corrupt header?)`,
    );
  }
}

/** A new image filled with `fill` (default 0). */
export function createImage(
  width: number,
  height: number,
  channels: Channels = 1,
  fill = 0,
  bitDepth = 8,
): Image {
  checkDimensions(width, height);
  const data = new Float32Array(width * height * channels);
  if (fill !== 0) data.fill(fill);
  return { width, height, channels, data, bitDepth };
}

/** Wraps existing samples, checking that the length matches the shape. */
export function imageFromData(
  width: number,
  height: number,
  channels: Channels,
  data: Float32Array,
  bitDepth = 8,
): Image {
  checkDimensions(width, height);
  if (data.length !== width * height * channels) {
    throw new RangeError(
      `data has ${data.length} samples, expected ${width}x${height}x${channels} = ${width * height * channels}`,
    );
  }
  return { width, height, channels, data, bitDepth };
}

/** 8-bit grey bytes (row-major) to an Image; the usual way renderers hand over pixels. */
export function imageFromGrey8(width: number, height: number, bytes: Uint8Array): Image {
  const data = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) data[i] = bytes[i]! / 255;
  return imageFromData(width, height, 1, data, 8);
}

/** Samples scaled to 0..255 and rounded, clamping out-of-range values. */
export function toUint8(image: Image): Uint8Array {
  const out = new Uint8Array(image.data.length);
  const d = image.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    out[i] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
  }
  return out;
}

/** A copy with the same shape (data not shared). */
export function cloneImage(image: Image): Image {
  return { ...image, data: image.data.slice() };
}
