import { promises as fs } from 'node:fs';
import { decodeImage, type DecodeOptions, type Image } from '@spine/imaging';
import { augmentImage } from './augment.js';
import type { PreprocessCache } from './cache.js';
import {
  preprocess,
  resolveTransform,
  toNetworkInput,
  type ResolvedTransform,
  type TransformConfig,
} from './transform.js';

/**
 * The whole per-image pipeline: file -> (cache | decode -> grey -> resize) -> augmentation with
 * `seed` (when configured) -> normalised 3-plane CHW. The loader's workers and its inline mode both
 * run exactly this, so their outputs are identical.
 */
export async function loadNetworkInput(
  path: string,
  config: TransformConfig | ResolvedTransform,
  options: {
    cache?: PreprocessCache;
    seed?: number;
    out?: Float32Array;
    offset?: number;
    /** Called with the decoded film's size, before it is resized (not called when the cache serves the film). */
    onDecoded?: (film: { width: number; height: number }) => void;
    /** Largest film (width x height) to decode; default @spine/imaging's DEFAULT_MAX_PIXELS. */
    maxPixels?: number;
  } = {},
): Promise<Float32Array> {
  const r = resolveTransform(config);
  const decodeOptions = filmDecodeOptions(options.maxPixels);
  const decode = async () => {
    const film = decodeImage(await fs.readFile(path), path, decodeOptions);
    options.onDecoded?.(film);
    return preprocess(film, r);
  };
  let grey: Image = options.cache ? await options.cache.load(path, r, decodeOptions) : await decode();
  if (r.augment) grey = augmentImage(grey, r.augment, options.seed ?? 0);
  return toNetworkInput(grey, r, options.out, options.offset);
}

/**
 * How the pipeline decodes films: straight to one grey channel (what `preprocess` would make of
 * the colour decode, bit for bit, without its full-size colour copy), within the pixel limit.
 */
export function filmDecodeOptions(maxPixels: number | undefined): DecodeOptions {
  return maxPixels === undefined ? { grey: true } : { grey: true, maxPixels };
}
