/**
 * Which activation Grad-CAM explains is the model's business: each model class registers a
 * "CAM target" that splits its forward pass into features (input -> the chosen activation) and a
 * head (that activation -> logits). head(features(x)) must equal model.forward(x). Grad-CAM
 * itself never looks inside a model, so a new architecture plugs in with one registration.
 */
import type * as T from '@spine/tensor';
import type { Module, Sequential } from '@spine/nn';

export interface CamTarget {
  /** The explained layer in state-dict terms, for reports (e.g. 'features.13 (conv5 + ReLU)'). */
  readonly layer: string;
  /** Input [N, C, H, W] -> the explained activation [N, K, h, w]. */
  features(x: T.Tensor): T.Tensor;
  /** That activation -> logits [N, classes]. */
  head(activation: T.Tensor): T.Tensor;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ModelClass<M extends Module> = abstract new (...args: any[]) => M;

const registry: { ctor: ModelClass<Module>; make: (model: Module) => CamTarget }[] = [];

/** Makes Grad-CAM work on instances of `ctor` (the most recent registration for a class wins). */
export function registerCamTarget<M extends Module>(ctor: ModelClass<M>, make: (model: M) => CamTarget): void {
  registry.unshift({ ctor, make: make as (model: Module) => CamTarget });
}

/** The registered CAM target for a model; a model class nobody registered is a clear error. */
export function camTargetFor(model: Module): CamTarget {
  const entry = registry.find((r) => model instanceof r.ctor);
  if (!entry) {
    const known = registry.map((r) => r.ctor.name).join(', ') || 'none';
    throw new Error(
      `Grad-CAM: no CAM target is registered for ${model.constructor.name} (registered: ${known}); call registerCamTarget for it`,
    );
  }
  return entry.make(model);
}

/**
 * Children [from, to) of a Sequential applied to x, disposing intermediates as Sequential.forward
 * does (autograd keeps what it saved). x itself is never disposed, and an empty range returns x
 * itself (so a caller disposes the result only when it is not x).
 */
export function runChildren(seq: Sequential, from: number, to: number, x: T.Tensor): T.Tensor {
  let y = x;
  for (let i = from; i < to; i++) {
    const next = seq.at(i).forward(y);
    if (y !== x && y !== next) y.dispose();
    y = next;
  }
  return y;
}
