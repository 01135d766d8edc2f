// The mixed-precision training step (the trainer's precision 'mixed'), like PyTorch's
// torch.autocast + GradScaler loop: the forward pass under autocast (Conv2d and Linear with f16
// operands and f32 sums; batch norm, the loss and the parameters f32), backward of the scaled
// loss, and the optimizer step unless the gradients overflowed (then the scale backs off).
// The scaler keeps its scale and the overflow check on the device (GradScaler.stepOnDevice): the
// step reads nothing back, so it is replayed like the f32 step. Only an optimizer that starts
// momentum buffers with a dampening needs the check on the host (a skipped first step would
// start them wrongly); its steps are recorded every time.
import * as T from '@spine/tensor';
import { autocast, GradScaler, softmaxCrossEntropy, type CrossEntropyOptions, type Module, type SGD } from '@spine/nn';
import { correctCount, replayedStep, type TrainingStep } from './training-step.js';

export interface MixedPrecisionStep extends TrainingStep {
  /** The run's scaler: its state on the host after syncFromDevice(). */
  readonly scaler: GradScaler;
}

/**
 * One step: the mean loss and the correct predictions (new tensors), as the f32 step returns;
 * replayed where `replay` is on and the scaler can skip on the device. Throws a RangeError where
 * the device has no 'shader-f16'.
 */
export function mixedPrecisionStep(
  model: Module,
  optimizer: SGD,
  ce: CrossEntropyOptions,
  /** The run's scaler (a resumed run's, restored from its checkpoint). */
  scaler: GradScaler = new GradScaler(),
  replay = true,
): MixedPrecisionStep {
  const info = T.deviceInfo();
  if (!info.features.includes('shader-f16'))
    throw new RangeError(
      `precision 'mixed' needs the WebGPU feature 'shader-f16', which this device (${info.vendor} ${info.device}) does not offer; train in f32`,
    );
  const forward = (x: T.Tensor, y: T.Tensor, scale: (loss: T.Tensor) => T.Tensor) =>
    T.scope(() => {
      const logits = autocast(() => model.forward(x));
      const loss = softmaxCrossEntropy(logits, y, ce);
      scale(loss).backward();
      return [T.detach(loss), T.noGrad(() => correctCount(logits, y))] as [T.Tensor, T.Tensor];
    });
  const onDevice = optimizer.paramGroups.every((g) => g.momentum === 0 || g.dampening === 0);
  if (!onDevice)
    return {
      scaler,
      async run(x, y) {
        const out = forward(x, y, (loss) => scaler.scale(loss));
        await scaler.step(optimizer);
        scaler.update();
        optimizer.zeroGrad();
        return out;
      },
      status: () => ({
        replays: 0,
        captures: 0,
        reason: 'momentum with a dampening: the loss scaler reads its overflow check every step',
      }),
      dispose: () => {},
    };
  const record = (x: T.Tensor, y: T.Tensor): [T.Tensor, T.Tensor] => {
    const out = forward(x, y, (loss) => scaler.scaleOnDevice(loss));
    scaler.stepOnDevice(optimizer);
    optimizer.zeroGrad();
    return out;
  };
  return { scaler, ...replayedStep(record, model, optimizer, replay) };
}
