// A training step on a batch, recorded op by op or replayed (T.replayable): the f32 step here,
// the mixed-precision one in mixed-step.ts, both through replayedStep.
import * as T from '@spine/tensor';
import { softmaxCrossEntropy, type CrossEntropyOptions, type Module, type SGD } from '@spine/nn';

export interface TrainingStep {
  /** One step on a batch: the mean loss and the number of correct predictions (new tensors). */
  run(x: T.Tensor, y: T.Tensor): [T.Tensor, T.Tensor] | Promise<[T.Tensor, T.Tensor]>;
  status(): { replays: number; captures: number; reason: string | null };
  /** Give a replay's buffers back to the pool (later steps capture again). */
  release?(): void;
  dispose(): void;
}

/** How many rows of `logits` have their largest value at the label (an i32 scalar). */
export function correctCount(logits: T.Tensor, labels: T.Tensor): T.Tensor {
  return T.sum(T.eq(T.argmax(T.detach(logits), 1), labels));
}

/**
 * `record` (one step that reads nothing back) replayed once its dispatches repeat, or recorded
 * every time where `replay` is off (`offReason` says why). The replay's key holds what the step
 * depends on outside the tensors: the optimizer's options (schedulers change the learning rate)
 * and the model's mode.
 */
export function replayedStep(
  record: (x: T.Tensor, y: T.Tensor) => [T.Tensor, T.Tensor],
  model: Module,
  optimizer: SGD,
  replay: boolean,
  offReason = 'replaySteps is off',
): TrainingStep {
  if (!replay)
    return {
      run: record,
      status: () => ({ replays: 0, captures: 0, reason: offReason }),
      dispose: () => {},
    };
  const replayable = T.replayable((x, y) => record(x!, y!));
  return {
    run: (x, y) => {
      const key = `${model.training}|${JSON.stringify(optimizer.paramGroups.map(({ params: _, ...options }) => options))}`;
      return replayable.run([x, y], key) as [T.Tensor, T.Tensor];
    },
    status: () => {
      const { replays, captures, reason } = replayable.status;
      return { replays, captures, reason };
    },
    release: () => replayable.dispose(),
    dispose: () => replayable.dispose(),
  };
}

/** Forward, loss, backward, optimizer update in f32; replayed (T.replayable) when `replay` is on. */
export function trainingStep(model: Module, optimizer: SGD, ce: CrossEntropyOptions, replay: boolean): TrainingStep {
  const record = (x: T.Tensor, y: T.Tensor): [T.Tensor, T.Tensor] => {
    const out = T.scope(() => {
      const logits = model.forward(x);
      const loss = softmaxCrossEntropy(logits, y, ce);
      loss.backward();
      return [T.detach(loss), T.noGrad(() => correctCount(logits, y))] as [T.Tensor, T.Tensor];
    });
    optimizer.step();
    optimizer.zeroGrad();
    return out;
  };
  return replayedStep(record, model, optimizer, replay);
}
