// DenseNet building blocks with torchvision's structure and names (models/densenet.py), so a
// torchvision state dict loads with no key mapping: denselayer{i}.{norm1, conv1, norm2, conv2},
// transition.{norm, conv}. Each BN-ReLU-conv is one of @spine/nn's fused ops
// (batchNormReluConv1x1 for norm1-relu1-conv1 and the transitions, batchNormReluConv2d for
// norm2-relu2-conv2), which never store the BN-ReLU output (the 3x3 one on software adapters); the
// memory-efficient bottleneck recomputes instead (concatBatchNormReluConv1x1Recomputed). Under
// autocast (mixed precision) these ops compute what BatchNorm2d, ReLU and Conv2d compute there
// (f16 operands for the conv), fused where convolutions run on subgroup matrices.
import * as T from '@spine/tensor';
import {
  avgPool2d,
  BatchNorm2d,
  batchNormReluConv1x1,
  batchNormReluConv2d,
  concatBatchNormReluConv1x1Recomputed,
  Conv2d,
  dropout,
  Module,
} from '@spine/nn';

export interface DenseLayerOptions {
  growthRate: number;
  bnSize: number;
  dropRate?: number;
  /** torchvision's memory_efficient: recompute concat + norm1-relu1-conv1 in backward. */
  memoryEfficient?: boolean;
}

/** BN-ReLU-conv1x1 (bottleneck, bnSize * growth channels) then BN-ReLU-conv3x3 (growth channels). */
export class DenseLayer extends Module {
  readonly norm1: BatchNorm2d;
  readonly conv1: Conv2d;
  readonly norm2: BatchNorm2d;
  readonly conv2: Conv2d;

  memoryEfficient: boolean;

  constructor(
    readonly numInputFeatures: number,
    readonly o: DenseLayerOptions,
  ) {
    super();
    this.memoryEfficient = o.memoryEfficient ?? false;
    const inner = o.bnSize * o.growthRate;
    this.norm1 = this.registerModule('norm1', new BatchNorm2d(numInputFeatures));
    this.conv1 = this.registerModule('conv1', new Conv2d(numInputFeatures, inner, 1, { bias: false }));
    this.norm2 = this.registerModule('norm2', new BatchNorm2d(inner));
    this.conv2 = this.registerModule('conv2', new Conv2d(inner, o.growthRate, 3, { padding: 1, bias: false }));
  }

  /** Takes every earlier feature map of the block; returns only the new growth-rate channels. */
  forward(...features: T.Tensor[]): T.Tensor {
    // As torchvision: recompute only when a gradient will flow back into the features.
    const b =
      this.memoryEfficient && T.isGradEnabled() && features.some((f) => f.requiresGrad)
        ? this.recomputedBottleneck(features)
        : this.bottleneck(features);
    // norm2 -> relu2 -> conv2 as one op: on software adapters the BN-ReLU happens inside the
    // conv's Winograd input transform and its output is never stored (nn's bn-relu-conv.ts).
    const n = this.norm2;
    const conv = this.conv2;
    // The plain mode keeps the conv's Winograd input transform for its weight gradient; the
    // memory-efficient mode transforms the input again in backward.
    const convOptions = { padding: conv.options.padding, stride: conv.options.stride, dilation: conv.options.dilation };
    const out = batchNormReluConv2d(
      b,
      n.param('weight'),
      n.param('bias'),
      n.buffer('running_mean'),
      n.buffer('running_var'),
      n.batchNormOptions(),
      conv.param('weight'),
      convOptions,
      { keepInputTransform: !this.memoryEfficient },
    );
    b.dispose();
    const p = this.o.dropRate ?? 0;
    if (p <= 0) return out;
    const dropped = dropout(out, p, { training: this.training });
    out.dispose();
    return dropped;
  }

  /**
   * concat -> norm1 -> relu1 -> conv1, the concat kept by autograd for backward. The BN-ReLU is
   * applied as the 1x1 conv's matmul reads its input, so its output is never stored (nn's
   * bn-relu-conv.ts).
   */
  private bottleneck(features: T.Tensor[]): T.Tensor {
    // A single input is used as it is (a plain view would cut it from the autograd graph).
    const input = features.length === 1 ? features[0]! : T.concat(features, 1);
    const n = this.norm1;
    const b = batchNormReluConv1x1(
      input,
      n.param('weight'),
      n.param('bias'),
      n.buffer('running_mean'),
      n.buffer('running_var'),
      n.batchNormOptions(),
      this.conv1.param('weight'),
    );
    if (input !== features[0]) input.dispose();
    return b;
  }

  /** The same numbers; the concat and the BN-ReLU output are recomputed in backward. */
  private recomputedBottleneck(features: T.Tensor[]): T.Tensor {
    const n = this.norm1;
    return concatBatchNormReluConv1x1Recomputed(
      features,
      {
        normWeight: n.param('weight'),
        normBias: n.param('bias'),
        runningMean: n.buffer('running_mean'),
        runningVar: n.buffer('running_var'),
        convWeight: this.conv1.param('weight'),
      },
      n.batchNormOptions(),
    );
  }
}

export interface DenseBlockOptions extends DenseLayerOptions {
  numLayers: number;
  numInputFeatures: number;
}

/** numLayers DenseLayers; each sees the concatenation of the block input and all new maps. */
export class DenseBlock extends Module {
  readonly layers: DenseLayer[] = [];

  constructor(readonly o: DenseBlockOptions) {
    super();
    for (let i = 0; i < o.numLayers; i++) {
      this.layers.push(
        this.registerModule(`denselayer${i + 1}`, new DenseLayer(o.numInputFeatures + i * o.growthRate, o)),
      );
    }
  }

  /** Switch every layer between the plain and the memory-efficient bottleneck. */
  setMemoryEfficient(on: boolean): void {
    for (const l of this.layers) l.memoryEfficient = on;
  }

  get numOutputFeatures(): number {
    return this.o.numInputFeatures + this.o.numLayers * this.o.growthRate;
  }

  forward(x: T.Tensor): T.Tensor {
    if (!T.isGradEnabled() || !this.layers.some((l) => l.memoryEfficient)) return this.forwardGrowing(x);
    const features = [x];
    for (const layer of this.layers) features.push(layer.forward(...features));
    const out = T.concat(features, 1);
    for (const f of features.slice(1)) f.dispose();
    return out;
  }

  /**
   * The features grow by one two-part concat per layer (everything so far, then the new maps),
   * and each layer reads that concat whole: a layer copies two regions per image instead of one
   * per earlier feature map, and the block needs no final concat. The memory-efficient mode
   * under autograd keeps the per-layer concats: its recomputed bottleneck saves its inputs, and
   * a grown concat saved per layer would be the memory it exists to avoid.
   */
  private forwardGrowing(x: T.Tensor): T.Tensor {
    let all = x;
    for (const layer of this.layers) {
      const f = layer.forward(all);
      const next = T.concat([all, f], 1);
      f.dispose();
      if (all !== x) all.dispose();
      all = next;
    }
    return all;
  }
}

/** BN-ReLU-conv1x1 (usually halving channels) then 2x2 average pooling. */
export class Transition extends Module {
  readonly norm: BatchNorm2d;
  readonly conv: Conv2d;

  constructor(
    readonly numInputFeatures: number,
    readonly numOutputFeatures: number,
  ) {
    super();
    this.norm = this.registerModule('norm', new BatchNorm2d(numInputFeatures));
    this.conv = this.registerModule('conv', new Conv2d(numInputFeatures, numOutputFeatures, 1, { bias: false }));
  }

  forward(x: T.Tensor): T.Tensor {
    const n = this.norm;
    const b = batchNormReluConv1x1(
      x,
      n.param('weight'),
      n.param('bias'),
      n.buffer('running_mean'),
      n.buffer('running_var'),
      n.batchNormOptions(),
      this.conv.param('weight'),
    );
    const out = avgPool2d(b, { kernel: 2, stride: 2 });
    b.dispose();
    return out;
  }
}
