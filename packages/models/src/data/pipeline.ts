import { promises as fs } from 'node:fs';
import { decodeImage, type Image } from '@spine/imaging';
import { augmentImage } from './augment.js';
import type { PreprocessCache } from './cache.js';
import { preprocess, resolveTransform, toNetworkInput, type ResolvedTransform, type TransformConfig } from './transform.js';

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
  } = {},
): Promise<Float32Array> {
  const r = resolveTransform(config);
  const decode = async () => {
    const film = decodeImage(await fs.readFile(path), path);
    options.onDecoded?.(film);
    return preprocess(film, r);
  };
  let grey: Image = options.cache ? await options.cache.load(path, r) : await decode();
  if (r.augment) grey = augmentImage(grey, r.augment, options.seed ?? 0);
  return toNetworkInput(grey, r, options.out, options.offset);
}
