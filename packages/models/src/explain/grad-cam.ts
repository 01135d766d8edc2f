/**
 * Grad-CAM (Selvaraju et al., 2017): for the explained activation A [K, h, w] of one film and the
 * logit y_c of class c (before softmax), the channel weights are the spatial means of the
 * gradient, a_k = mean_ij dy_c/dA_kij, and the map is ReLU(sum_k a_k A_k) at the activation's
 * resolution. The activation is computed without a graph and then made a leaf, so one backward
 * pass through the head alone gives dy/dA, and no parameter gradient is accumulated.
 */
import * as T from '@spine/tensor';
import type { Module } from '@spine/nn';
import { camTargetFor } from './cam-target.js';
import './targets.js';

export interface GradCamResult {
  /** The explained layer (from the model's CAM target). */
  layer: string;
  /** Size of every map (the activation's spatial size). */
  height: number;
  width: number;
  /** One map per film, h*w row-major, ReLU applied, not rescaled. */
  maps: Float32Array[];
  /** The class each map explains. */
  classes: number[];
  /** Softmax probabilities per film (from the same forward pass). */
  probabilities: number[][];
}

export interface GradCamOptions {
  /** Class to explain per film ('predicted': the argmax, the default), or one class for all. */
  classes?: readonly number[] | number | 'predicted';
}

/** Grad-CAM maps for a batch x [N, C, H, W]; the model should be in eval mode. */
export async function gradCam(model: Module, x: T.Tensor, options: GradCamOptions = {}): Promise<GradCamResult> {
  const target = camTargetFor(model);
  const params = model.parameters();
  const wanted = params.map((p) => p.requiresGrad);
  for (const p of params) p.requiresGrad = false;
  let activation: T.Tensor | undefined;
  let logits: T.Tensor | undefined;
  try {
    activation = T.noGrad(() => T.scope(() => target.features(x)));
    if (activation.rank !== 4)
      throw new Error(`Grad-CAM: ${target.layer} gives shape [${activation.shape.join(', ')}], expected [N, K, h, w]`);
    activation.requiresGrad = true;
    const a = activation;
    logits = T.scope(() => target.head(a));
    const [n, k] = logits.shape as [number, number];
    const z = await logits.data();
    const probabilities = Array.from({ length: n }, (_, i) => softmaxRow(z, i * k, k));
    const classes = pickClasses(options.classes ?? 'predicted', probabilities, k);
    const oneHot = new Float32Array(n * k);
    classes.forEach((c, i) => (oneHot[i * k + c] = 1));
    // Films are independent in eval mode, so the gradient of sum_i y_i,c_i w.r.t. A_i is dy_i,c_i/dA_i.
    const l = logits;
    const selected = T.scope(() => T.sum(T.mul(l, T.tensor(oneHot, [n, k]))));
    selected.backward();
    selected.dispose();
    if (!a.grad) throw new Error(`Grad-CAM: no gradient reached ${target.layer}`);
    const [values, grads] = await Promise.all([a.data(), a.grad.data()]);
    const [, channels, h, w] = a.shape as [number, number, number, number];
    const maps = Array.from({ length: n }, (_, i) => camFromActivation(values, grads, i, channels, h, w));
    return { layer: target.layer, height: h, width: w, maps, classes, probabilities };
  } finally {
    activation?.grad?.dispose();
    activation?.dispose();
    logits?.dispose();
    params.forEach((p, i) => (p.requiresGrad = wanted[i]!));
  }
}

/** ReLU(sum_k mean(grad_k) * A_k) for film i, accumulated in float64. */
export function camFromActivation(
  activation: ArrayLike<number>,
  gradient: ArrayLike<number>,
  i: number,
  channels: number,
  h: number,
  w: number,
): Float32Array {
  const plane = h * w;
  const acc = new Float64Array(plane);
  for (let c = 0; c < channels; c++) {
    const base = (i * channels + c) * plane;
    let g = 0;
    for (let j = 0; j < plane; j++) g += gradient[base + j]!;
    const weight = g / plane;
    if (weight === 0) continue;
    for (let j = 0; j < plane; j++) acc[j] += weight * activation[base + j]!;
  }
  const out = new Float32Array(plane);
  for (let j = 0; j < plane; j++) out[j] = Math.max(0, acc[j]!);
  return out;
}

function softmaxRow(z: ArrayLike<number>, offset: number, k: number): number[] {
  let max = -Infinity;
  for (let j = 0; j < k; j++) max = Math.max(max, z[offset + j]!);
  const e = Array.from({ length: k }, (_, j) => Math.exp(z[offset + j]! - max));
  const s = e.reduce((p, v) => p + v, 0);
  return e.map((v) => v / s);
}

function pickClasses(choice: NonNullable<GradCamOptions['classes']>, probabilities: number[][], k: number): number[] {
  const n = probabilities.length;
  const classes =
    choice === 'predicted'
      ? probabilities.map((p) => p.indexOf(Math.max(...p)))
      : typeof choice === 'number'
        ? new Array<number>(n).fill(choice)
        : [...choice];
  if (classes.length !== n) throw new Error(`Grad-CAM: ${classes.length} classes given for ${n} films`);
  for (const c of classes)
    if (!Number.isInteger(c) || c < 0 || c >= k) throw new Error(`Grad-CAM: class ${c} is outside 0..${k - 1}`);
  return classes;
}
