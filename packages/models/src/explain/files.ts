/**
 * Grad-CAM over image files in batches, preprocessed exactly as for evaluation (no augmentation).
 * Yields one result per readable file; an unreadable file yields why (without its path) and the
 * batch goes on.
 */
import * as T from '@spine/tensor';
import type { Module } from '@spine/nn';
import { fileErrorReason } from '../data/file-error.js';
import { loadNetworkInput } from '../data/pipeline.js';
import { resolveTransform, type TransformConfig } from '../data/transform.js';
import { gradCam } from './grad-cam.js';

export interface FileCam {
  file: string;
  /** The explained class, its map [height, width] (unscaled) and the softmax probabilities. */
  classIndex: number;
  map: Float32Array;
  height: number;
  width: number;
  probabilities: number[];
  /** The film as the network saw it: one grey plane at the input size, in [0, 1]. */
  grey: Float32Array;
  /**
   * Width / height of the film as the network saw it, undistorted: the film's own aspect when it
   * was stretched to the input, the input's when the input is a centre crop.
   */
  aspect: number;
  layer: string;
}

export interface FileCamError {
  file: string;
  /** Why the file could not be read, without its path (that is `file`). */
  error: string;
}

export interface ExplainFilesOptions {
  batchSize?: number;
  /** Class to explain for the i-th file ('predicted' by default). */
  classFor?: (index: number, file: string) => number | 'predicted';
  /** Largest film (width x height) to decode; default @spine/imaging's DEFAULT_MAX_PIXELS. */
  maxPixels?: number;
}

export async function* explainFiles(
  model: Module,
  files: readonly string[],
  transform: Omit<TransformConfig, 'augment'>,
  options: ExplainFilesOptions = {},
): AsyncGenerator<FileCam | FileCamError> {
  const r = resolveTransform({ ...transform, augment: false });
  const batch = options.batchSize ?? 16;
  const plane = r.width * r.height;
  for (let start = 0; start < files.length; start += batch) {
    const chunk = files.slice(start, start + batch);
    const inputs = new Float32Array(chunk.length * 3 * plane);
    const ok: number[] = [];
    const aspects: number[] = [];
    const errors = new Map<number, string>();
    for (let i = 0; i < chunk.length; i++) {
      try {
        let aspect = r.width / r.height;
        await loadNetworkInput(chunk[i]!, r, {
          out: inputs,
          offset: ok.length * 3 * plane,
          maxPixels: options.maxPixels,
          onDecoded: (film) => {
            if (r.resize === 'stretch') aspect = film.width / film.height;
          },
        });
        ok.push(i);
        aspects.push(aspect);
      } catch (e) {
        errors.set(i, fileErrorReason(e));
      }
    }
    let result: Awaited<ReturnType<typeof gradCam>> | undefined;
    if (ok.length > 0) {
      const x = T.tensor(inputs.subarray(0, ok.length * 3 * plane), [ok.length, 3, r.height, r.width]);
      try {
        const wanted = ok.map((i) => options.classFor?.(start + i, chunk[i]!) ?? 'predicted');
        result = await gradCam(model, x, {
          classes: wanted.every((c) => c === 'predicted') ? 'predicted' : await resolveMixed(model, x, wanted),
        });
      } finally {
        x.dispose();
      }
    }
    for (let i = 0; i < chunk.length; i++) {
      const k = ok.indexOf(i);
      if (k < 0 || !result) {
        yield { file: chunk[i]!, error: errors.get(i) ?? 'not processed' };
        continue;
      }
      // Plane 0 of the normalised input, back to [0, 1] grey.
      const grey = Float32Array.from(
        inputs.subarray(k * 3 * plane, k * 3 * plane + plane),
        (v) => v * r.std[0] + r.mean[0],
      );
      yield {
        file: chunk[i]!,
        classIndex: result.classes[k]!,
        map: result.maps[k]!,
        height: result.height,
        width: result.width,
        probabilities: result.probabilities[k]!,
        grey,
        aspect: aspects[k]!,
        layer: result.layer,
      };
    }
  }
}

/** Explicit classes, with 'predicted' entries replaced by the argmax of a plain forward pass. */
async function resolveMixed(model: Module, x: T.Tensor, wanted: (number | 'predicted')[]): Promise<number[]> {
  if (wanted.every((c) => c !== 'predicted')) return wanted as number[];
  const logits = T.noGrad(() => model.forward(x));
  const [, k] = logits.shape as [number, number];
  const z = await logits.data();
  logits.dispose();
  return wanted.map((c, i) => {
    if (c !== 'predicted') return c;
    let best = 0;
    for (let j = 1; j < k; j++) if (z[i * k + j]! > z[i * k + best]!) best = j;
    return best;
  });
}
