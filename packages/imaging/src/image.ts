import { formatCount, ImagingError } from './errors.js';

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
 * Largest image we agree to allocate at all: 2^28 pixels (16384 x 16384). Operations that create
 * images (resize, crop, contact sheets) check against this; decoding uses the lower DEFAULT_MAX_PIXELS.
 */
export const MAX_PIXELS = 1 << 28;
export const MAX_SIDE = 65535;

/**
 * Default limit on the pixels a decoder accepts. Radiographs need far fewer: a 14 x 17 inch film
 * at 0.1 mm is 3556 x 4318 (15 Mpixel), a detector at 0.085 mm about 4100 x 5000 (21 Mpixel), and
 * NHANES films are about 2.5k x 3k. 30 Mpixel leaves room for the largest films (~25 Mpixel)
 * while refusing decompression bombs (a few hundred KB of zeros claiming 16384 x 16384) from the
 * header, before anything is allocated; decoding a film at the limit stays well under 1 GB.
 */
export const DEFAULT_MAX_PIXELS = 30_000_000;

/** Options every decoder takes. */
export interface DecodeOptions {
  /**
   * Largest width x height accepted (default DEFAULT_MAX_PIXELS, at most MAX_PIXELS). Checked
   * against the header before any pixel memory is allocated.
   */
  maxPixels?: number;
  /**
   * Decode straight to one grey channel (what `toGrey` of the full decode gives, bit for bit),
   * converting row by row so no full-size colour or alpha copy is ever made.
   */
  grey?: boolean;
}

/** The pixel limit `options` asks for, validated (a bad value is a programming error, not bad input). */
export function decodeLimit(options: DecodeOptions = {}): number {
  const limit = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PIXELS) {
    throw new RangeError(`maxPixels must be an integer from 1 to ${MAX_PIXELS}, got ${limit}`);
  }
  return limit;
}

/**
 * Throws an ImagingError when dimensions are zero, non-integer or above `maxPixels` (for
 * decoders: `decodeLimit(options)`; elsewhere the allocation bound MAX_PIXELS).
 */
export function checkDimensions(width: number, height: number, file = '<memory>', maxPixels = MAX_PIXELS): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new ImagingError(file, `invalid image size ${width}x${height} (must be positive integers)`);
  }
  if (width > MAX_SIDE || height > MAX_SIDE) {
    throw new ImagingError(
      file,
      `image size ${width}x${height} has a side above ${formatCount(MAX_SIDE)} pixels (corrupt header?)`,
    );
  }
  if (width * height > maxPixels) {
    throw new ImagingError(
      file,
      `image size ${width}x${height} (${formatCount(width * height)} pixels) is above the limit of ${formatCount(maxPixels)} pixels ` +
        '(a corrupt header or a decompression bomb; if the image is real, raise maxPixels, --max-pixels on the command line)',
    );
  }
}

/** A new image filled with `fill` (default 0). */
export function createImage(width: number, height: number, channels: Channels = 1, fill = 0, bitDepth = 8): Image {
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
