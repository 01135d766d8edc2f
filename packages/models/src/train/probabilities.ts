// Class probabilities of a batch (softmax over the model's logits, eval mode, no autograd),
// replayed once two batches of the same shape have recorded the same dispatches (T.replayable):
// evaluation and prediction run the same forward over thousands of batches, and its JavaScript
// is most of the host's cost per batch.
import * as T from '@spine/tensor';
import type { Module } from '@spine/nn';

export interface ProbabilitiesStep {
  /** softmax(model(x), 1): a new tensor the caller disposes. */
  run(x: T.Tensor): T.Tensor;
  /** Batches replayed so far. */
  readonly replays: number;
  /** Give the replay's buffers back (the step may still run: it records again). */
  dispose(): void;
}

/** The probabilities of `model` (put in eval mode by the caller), replayed where possible. */
export function probabilitiesStep(model: Module, options: { replay?: boolean } = {}): ProbabilitiesStep {
  const record = (x: T.Tensor) => T.noGrad(() => T.scope(() => T.softmax(model.forward(x), 1)));
  if (options.replay === false) return { run: record, replays: 0, dispose: () => {} };
  // No warm-up: a forward in eval mode makes no state to keep.
  const step = T.replayable((x) => [record(x!)], { warmup: 0 });
  return {
    run: (x) => step.run([x], `${model.training}`)[0]!,
    get replays() {
      return step.status.replays;
    },
    dispose: () => step.dispose(),
  };
}
