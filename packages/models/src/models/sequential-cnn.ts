// The paper's Approach I: a sequential AlexNet-like CNN trained from scratch (Xue et al.).
// 5 conv + 3 FC, LRN after conv1 and conv2, max-pool 3x3/2 after each LRN and after conv5,
// dropout 0.5 on FC6 and FC7, zero-mean Gaussian init. What the paper leaves open (conv2-5
// widths and strides) defaults to AlexNet/ZFNet's choice: 256, 384, 384, 256 channels, conv2
// stride 2 padding 1, so 227 -> 111 -> 55 -> 28 -> 13 -> 13 -> 6 and FC6 sees 256*6*6 = 9216
// inputs (with conv2 at stride 1 it would see 43,264 and hold 177M weights). All configurable.
// The FC layers are ShardedLinear: FC6's weight (4096 x 9216 floats, 144 MiB) is over the
// 128 MiB storage binding of lavapipe and WebGPU's default limit, so it is kept as two row
// blocks; its state-dict key is still `classifier.1.weight` in checkpoints (stateDictData).
import * as T from '@spine/tensor';
import {
  BatchNorm2d,
  Conv2d,
  Dropout,
  Flatten,
  init,
  LocalResponseNorm,
  MaxPool2d,
  Module,
  ReLU,
  Sequential,
  ShardedLinear,
  poolOutputSize,
} from '@spine/nn';
import { PAPER_SEQCNN, type SequentialCnnConfig } from './sequential-cnn-config.js';

export {
  ALEXNET_LRN,
  PAPER_SEQCNN,
  type LrnConfig,
  type SequentialCnnConfig,
} from './sequential-cnn-config.js';

/** Spatial size after every stage, for a config (also checks that it stays positive). */
export function sequentialCnnShapes(c: SequentialCnnConfig): {
  conv1: number;
  pool1: number;
  conv2: number;
  pool2: number;
  pool5: number;
  fc6Inputs: number;
} {
  const conv = (n: number, k: number, s: number, p: number) => Math.floor((n + 2 * p - k) / s) + 1;
  const conv1 = conv(c.inputSize, c.conv1.kernel, c.conv1.stride, c.conv1.padding);
  const pool1 = poolOutputSize(conv1, 3, 2, 0, false);
  const conv2 = conv(pool1, 3, c.conv2.stride, c.conv2.padding);
  const pool2 = poolOutputSize(conv2, 3, 2, 0, false);
  const pool5 = poolOutputSize(pool2, 3, 2, 0, false);
  if ([conv1, pool1, conv2, pool2, pool5].some((v) => !(v >= 1)))
    throw new Error(`input size ${c.inputSize} is too small for this network`);
  return { conv1, pool1, conv2, pool2, pool5, fc6Inputs: c.channels[4] * pool5 * pool5 };
}

/** features (conv stack) and classifier (FC stack), named like torchvision's AlexNet. */
export class SequentialCNN extends Module {
  readonly features: Sequential;
  readonly classifier: Sequential;

  constructor(readonly config: SequentialCnnConfig = PAPER_SEQCNN) {
    super();
    const c = config;
    const [c1, c2, c3, c4, c5] = c.channels;
    const { fc6Inputs } = sequentialCnnShapes(c);
    const pool = () => new MaxPool2d(3, { stride: 2 });
    const bn = c.batchNorm === true;
    // conv -> ReLU (-> LRN where the paper has it), or conv -> BN -> ReLU.
    const conv = (i: number, o: number, k: number, stride: number, padding: number, withLrn: boolean) =>
      bn
        ? [new Conv2d(i, o, k, { stride, padding, bias: false }), new BatchNorm2d(o), new ReLU()]
        : [
            new Conv2d(i, o, k, { stride, padding }),
            new ReLU(),
            ...(withLrn ? [new LocalResponseNorm(c.lrn.size, c.lrn.alpha, c.lrn.beta, c.lrn.k)] : []),
          ];
    this.features = this.registerModule(
      'features',
      new Sequential(
        ...conv(c.inChannels, c1, c.conv1.kernel, c.conv1.stride, c.conv1.padding, true),
        pool(),
        ...conv(c1, c2, 3, c.conv2.stride, c.conv2.padding, true),
        pool(),
        ...conv(c2, c3, 3, 1, 1, false),
        ...conv(c3, c4, 3, 1, 1, false),
        ...conv(c4, c5, 3, 1, 1, false),
        pool(),
      ),
    );
    this.classifier = this.registerModule(
      'classifier',
      new Sequential(
        new Flatten(),
        new ShardedLinear(fc6Inputs, c.hidden[0]),
        new ReLU(),
        new Dropout(c.dropout),
        new ShardedLinear(c.hidden[0], c.hidden[1]),
        new ReLU(),
        new Dropout(c.dropout),
        new ShardedLinear(c.hidden[1], c.numClasses),
      ),
    );
    // Batch norm keeps its own init (weight 1, bias 0).
    const normParams = new Set(
      [...this.namedModules()].flatMap(([, m]) => (m instanceof BatchNorm2d ? m.parameters() : [])),
    );
    for (const [name, p] of this.namedParameters()) {
      if (normParams.has(p)) continue;
      if (name.endsWith('.bias')) init.zeros_(p);
      else init.normal_(p, 0, c.initStd);
    }
  }

  forward(x: T.Tensor): T.Tensor {
    const f = this.features.forward(x);
    const y = this.classifier.forward(f);
    f.dispose();
    return y;
  }
}
