import type { Image } from '../image.js';

/**
 * One grey channel. Colour uses ITU-R BT.601 luma (what Pillow's convert('L') does), so a grey
 * film saved as RGB comes back exactly; alpha is dropped, not composited.
 */
export function toGrey(image: Image): Image {
  const { width, height, channels, data } = image;
  if (channels === 1) return image;
  const n = width * height;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    out[i] = channels <= 2 ? data[s]! : 0.299 * data[s]! + 0.587 * data[s + 1]! + 0.114 * data[s + 2]!;
  }
  return { width, height, channels: 1, data: out, bitDepth: image.bitDepth };
}

/** Three channels: grey is replicated (ImageNet-pretrained networks expect RGB), alpha dropped. */
export function toRgb(image: Image): Image {
  const { width, height, channels, data } = image;
  if (channels === 3) return image;
  const n = width * height;
  const out = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    if (channels <= 2) {
      const v = data[s]!;
      out[3 * i] = v;
      out[3 * i + 1] = v;
      out[3 * i + 2] = v;
    } else {
      out[3 * i] = data[s]!;
      out[3 * i + 1] = data[s + 1]!;
      out[3 * i + 2] = data[s + 2]!;
    }
  }
  return { width, height, channels: 3, data: out, bitDepth: image.bitDepth };
}

/** Channel-major planes (CHW), the layout tensors use; `toGrey`/`toRgb` first to fix C. */
export function toPlanar(image: Image): Float32Array {
  const { width, height, channels, data } = image;
  const n = width * height;
  if (channels === 1) return data.slice();
  const out = new Float32Array(n * channels);
  for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) out[c * n + i] = data[i * channels + c]!;
  return out;
}
