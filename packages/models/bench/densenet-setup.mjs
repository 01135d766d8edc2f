// One DenseNet-121 training setup for the benchmarks that time its steps (densenet-bench,
// host-recording-bench, densenet-gpu-bench, densenet-kernel-profile): the model (2 classes), SGD
// momentum 0.9, one fixed batch, and the step as the trainer runs it.
import * as T from '@spine/tensor/node';
import { SGD, softmaxCrossEntropy } from '@spine/nn';
import { densenet121 } from '../dist/models/densenet/densenet.js'; // not the package index: it loads the image codecs

/** `trainStep(x, labels)` returns the (detached) loss, as the trainer's step does. */
export function denseNetTraining({ batch, size, memoryEfficient = false }) {
  T.manualSeed(1);
  const model = densenet121({ numClasses: 2, memoryEfficient });
  const opt = new SGD(model.parameters(), { lr: 1e-3, momentum: 0.9 });
  const x = T.randn([batch, 3, size, size], { seed: 2 }).keep();
  const labels = T.tensor(
    Int32Array.from({ length: batch }, (_, i) => i % 2),
    [batch],
    'i32',
  ).keep();
  const trainStep = (xi, yi) => {
    const loss = T.scope(() => {
      model.train();
      const l = softmaxCrossEntropy(model.forward(xi), yi);
      l.backward();
      return T.detach(l);
    });
    opt.step();
    model.zeroGrad();
    return loss;
  };
  const dispose = () => {
    model.dispose();
    opt.dispose();
    x.dispose();
    labels.dispose();
  };
  return { model, opt, x, labels, trainStep, dispose };
}
