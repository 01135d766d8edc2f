import jpeg from 'jpeg-js';
import { formatCount, ImagingError } from '../errors.js';
import { checkDimensions, decodeLimit, type DecodeOptions, type Image } from '../image.js';

/** Size and component samples (each component's share of full resolution summed) from the SOF. */
interface JpegFrame {
  width: number;
  height: number;
  components: number;
  /** Samples per pixel the decoder holds: 1 for grey, 1.5 for 4:2:0 colour, 3 for 4:4:4. */
  samplesPerPixel: number;
}

/** Reads the SOF, so absurd sizes are refused before jpeg-js allocates. */
function jpegFrame(bytes: Uint8Array): JpegFrame | undefined {
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i++;
      continue;
    }
    const len = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const components = bytes[i + 9] ?? 0;
      const factors: [number, number][] = [];
      for (let c = 0; c < components && i + 12 + 3 * c < bytes.length; c++) {
        const hv = bytes[i + 11 + 3 * c]!;
        factors.push([Math.max(1, hv >> 4), Math.max(1, hv & 15)]);
      }
      const hMax = Math.max(1, ...factors.map((f) => f[0]));
      const vMax = Math.max(1, ...factors.map((f) => f[1]));
      const samplesPerPixel = factors.reduce((sum, [h, v]) => sum + (h * v) / (hMax * vMax), 0);
      return {
        height: (bytes[i + 5]! << 8) | bytes[i + 6]!,
        width: (bytes[i + 7]! << 8) | bytes[i + 8]!,
        components,
        samplesPerPixel,
      };
    }
    i += 2 + len;
  }
  return undefined;
}

/**
 * jpeg-js keeps every 8x8 block of every component as its own small array (about 7 bytes per
 * sample), so its memory follows samples, not pixels: the limit allows 1.5 samples per pixel
 * (grey, or colour with 4:2:0 chroma, at the full pixel limit; full-resolution colour at half of
 * it), which keeps decoding any JPEG the limit admits under 1 GB.
 */
const SAMPLES_PER_LIMIT_PIXEL = 1.5;

/**
 * Baseline/progressive JPEG via jpeg-js (NLM distributes the NHANES films as JPEG). A JPEG whose
 * three components are equal is returned as one grey channel, since x-rays are often saved as RGB;
 * with `options.grey` colour is reduced to BT.601 luma too.
 */
export function decodeJpeg(bytes: Uint8Array, file = '<memory>', options: DecodeOptions = {}): Image {
  const maxPixels = decodeLimit(options);
  const frame = jpegFrame(bytes);
  if (!frame) throw new ImagingError(file, 'JPEG is corrupt or truncated (no frame header)');
  checkDimensions(frame.width, frame.height, file, maxPixels);
  const samples = Math.ceil(frame.width * frame.height * frame.samplesPerPixel);
  const maxSamples = Math.floor(maxPixels * SAMPLES_PER_LIMIT_PIXEL);
  if (samples > maxSamples) {
    throw new ImagingError(
      file,
      `JPEG of ${frame.width}x${frame.height} with ${frame.components} colour components holds ${formatCount(samples)} samples, above the limit of ` +
        `${formatCount(maxSamples)} (${SAMPLES_PER_LIMIT_PIXEL} per pixel of the ${formatCount(maxPixels)} pixel limit); re-save it as grey, or raise maxPixels`,
    );
  }
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      maxResolutionInMP: maxPixels / 1e6,
      maxMemoryUsageInMB: 4096,
    });
  } catch (e) {
    // Entropy-coded data never holds FF D9, so a file that does not end with it was cut short.
    if (bytes[bytes.length - 2] !== 0xff || bytes[bytes.length - 1] !== 0xd9) {
      throw new ImagingError(
        file,
        `JPEG is truncated after ${formatCount(bytes.length)} bytes (no end-of-image marker)`,
        { cause: e },
      );
    }
    throw new ImagingError(file, `JPEG is corrupt or unsupported (${(e as Error).message})`, { cause: e });
  }
  const { width, height } = decoded;
  checkDimensions(width, height, file, maxPixels);
  const n = width * height;
  const rgb = decoded.data;
  if (rgb.length < n * 3) throw new ImagingError(file, 'JPEG is truncated (too few pixels)');
  let grey = true;
  for (let i = 0; i < n && grey; i++) {
    const r = rgb[3 * i]!;
    grey = r === rgb[3 * i + 1] && r === rgb[3 * i + 2];
  }
  if (grey) {
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = rgb[3 * i]! / 255;
    return { width, height, channels: 1, data, bitDepth: 8 };
  }
  if (options.grey) {
    const data = new Float32Array(n);
    const f = Math.fround;
    for (let i = 0; i < n; i++)
      data[i] = 0.299 * f(rgb[3 * i]! / 255) + 0.587 * f(rgb[3 * i + 1]! / 255) + 0.114 * f(rgb[3 * i + 2]! / 255);
    return { width, height, channels: 1, data, bitDepth: 8 };
  }
  const data = new Float32Array(n * 3);
  for (let i = 0; i < n * 3; i++) data[i] = rgb[i]! / 255;
  return { width, height, channels: 3, data, bitDepth: 8 };
}
