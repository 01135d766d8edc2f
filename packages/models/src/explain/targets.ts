/**
 * CAM targets of this package's models: the output of the last convolution block, the usual
 * Grad-CAM choice (the last layer that still has a spatial layout).
 */
import * as T from '@spine/tensor';
import { ReLU, globalAvgPool2d } from '@spine/nn';
import { DenseNet } from '../models/densenet/densenet.js';
import { SequentialCNN } from '../models/sequential-cnn.js';
import { registerCamTarget, runChildren } from './cam-target.js';

/** SequentialCNN: conv5 + its ReLU (before pool5); the head is pool5 and the classifier. */
registerCamTarget(SequentialCNN, (model) => {
  const f = model.features;
  let last = -1;
  for (let i = 0; i < f.length; i++) if (f.at(i) instanceof ReLU) last = i;
  if (last < 0) throw new Error('Grad-CAM: SequentialCNN.features has no ReLU');
  return {
    layer: `features.${last} (conv5 + ReLU)`,
    features: (x) => runChildren(f, 0, last + 1, x),
    head: (a) => {
      const pooled = runChildren(f, last + 1, f.length, a);
      const y = model.classifier.forward(pooled);
      if (pooled !== a) pooled.dispose();
      return y;
    },
  };
});

/** DenseNet: features.norm5 and the ReLU forward applies after it; the head is the global average pool and the classifier. */
registerCamTarget(DenseNet, (model) => ({
  layer: 'features.norm5 + ReLU',
  features: (x) => model.forwardFeatures(x, true),
  head: (a) =>
    T.scope(() => {
      const flat = T.flatten(globalAvgPool2d(a), 1);
      return model.classifier.forward(flat);
    }),
}));
