// The mixed-precision training step (the trainer's precision 'mixed'), like PyTorch's
// torch.autocast + GradScaler loop: the forward pass under autocast (Conv2d and Linear with f16
// operands and f32 sums; batch norm, the loss and the parameters f32), backward of the scaled
// loss, and the optimizer step unless the gradients overflowed (then the scale backs off).
// Whether they did is read back every step, so these steps are recorded, not replayed.
import * as T from '@spine/tensor';
import { autocast, GradScaler, softmaxCrossEntropy, type CrossEntropyOptions, type Module, type SGD } from '@spine/nn';

export interface MixedPrecisionStep {
  run(x: T.Tensor, y: T.Tensor): Promise<[T.Tensor, T.Tensor]>;
  status(): { replays: number; captures: number; reason: string | null };
  /** The loss scale now and the steps skipped for an overflow so far. */
  readonly scaler: GradScaler;
  readonly skippedSteps: number;
  dispose(): void;
}

/**
 * One step: the mean loss and `hits(logits, labels)` (new tensors), as the f32 step returns.
 * Throws a RangeError where the device has no 'shader-f16'.
 */
export function mixedPrecisionStep(
  model: Module,
  optimizer: SGD,
  ce: CrossEntropyOptions,
  hits: (logits: T.Tensor, labels: T.Tensor) => T.Tensor,
  /** The run's scaler (a resumed run's, restored from its checkpoint). */
  scaler: GradScaler = new GradScaler(),
): MixedPrecisionStep {
  const info = T.deviceInfo();
  if (!info.features.includes('shader-f16'))
    throw new RangeError(
      `precision 'mixed' needs the WebGPU feature 'shader-f16', which this device (${info.vendor} ${info.device}) does not offer; train in f32`,
    );
  let skipped = 0;
  return {
    scaler,
    get skippedSteps() {
      return skipped;
    },
    async run(x, y) {
      const out = T.scope(() => {
        const logits = autocast(() => model.forward(x));
        const loss = softmaxCrossEntropy(logits, y, ce);
        scaler.scale(loss).backward();
        return [T.detach(loss), T.noGrad(() => hits(logits, y))] as [T.Tensor, T.Tensor];
      });
      if (!(await scaler.step(optimizer))) skipped++;
      scaler.update();
      optimizer.zeroGrad();
      return out;
    },
    status: () => ({ replays: 0, captures: 0, reason: 'mixed precision reads the overflow check every step' }),
    dispose: () => {},
  };
}
