// DenseNet-121/169/201 (Huang et al.) with torchvision 0.14's structure, state-dict keys and
// initialisation (torchvision/models/densenet.py), built from DenseLayer, DenseBlock and
// Transition (blocks.ts), so torchvision's weight files load with strict key matching:
//   features.{conv0, norm0, relu0, pool0, denseblock1, transition1, ..., denseblock4, norm5}
//   classifier
// memoryEfficient recomputes each dense layer's concatenation and norm1-relu1-conv1 bottleneck
// in backward instead of keeping them (Pleiss et al., "Memory-Efficient Implementation of
// DenseNets"), so activation memory grows linearly with depth instead of quadratically.
import * as T from '@spine/tensor';
import { BatchNorm2d, Conv2d, globalAvgPool2d, init, Linear, MaxPool2d, Module, ReLU, Sequential } from '@spine/nn';
import { DenseBlock, Transition } from './blocks.js';

export interface DenseNetConfig {
  /** New channels per dense layer (k in the paper). */
  growthRate: number;
  /** Dense layers per block. */
  blockConfig: readonly number[];
  /** Channels out of conv0. */
  numInitFeatures: number;
  /** Bottleneck width as a multiple of growthRate. */
  bnSize: number;
  /** Dropout after every dense layer (0: none). */
  dropRate: number;
  numClasses: number;
  /** Recompute concatenations and bottlenecks in backward (less memory, a little more time). */
  memoryEfficient: boolean;
}

export type DenseNetOptions = Partial<Pick<DenseNetConfig, 'numClasses' | 'memoryEfficient' | 'dropRate'>>;

/** torchvision's defaults: 1000 ImageNet classes, no dropout, the plain (fast) mode. */
const DEFAULTS = {
  numClasses: 1000,
  dropRate: 0,
  memoryEfficient: false,
  bnSize: 4,
  numInitFeatures: 64,
  growthRate: 32,
} as const;

export class DenseNet extends Module {
  readonly features: Sequential;
  readonly classifier: Linear;
  /** Channels into the classifier (1024 for DenseNet-121). */
  readonly numFeatures: number;

  /** A copy of the config the model was built with; memoryEfficient follows setMemoryEfficient. */
  readonly config: DenseNetConfig;

  constructor(config: DenseNetConfig) {
    super();
    this.config = { ...config, blockConfig: [...config.blockConfig] };
    const c = config;
    if (!c.blockConfig.length || !c.blockConfig.every((n) => Number.isInteger(n) && n > 0)) {
      throw new RangeError(`DenseNet: blockConfig must be positive integers, got [${c.blockConfig.join(', ')}]`);
    }
    if (!(c.dropRate >= 0 && c.dropRate < 1))
      throw new RangeError(`DenseNet: dropRate must be in [0, 1), got ${c.dropRate}`);
    const entries: [string, Module][] = [
      ['conv0', new Conv2d(3, c.numInitFeatures, 7, { stride: 2, padding: 3, bias: false })],
      ['norm0', new BatchNorm2d(c.numInitFeatures)],
      ['relu0', new ReLU()],
      ['pool0', new MaxPool2d(3, { stride: 2, padding: 1 })],
    ];
    let n = c.numInitFeatures;
    c.blockConfig.forEach((numLayers, i) => {
      const block = new DenseBlock({
        numLayers,
        numInputFeatures: n,
        bnSize: c.bnSize,
        growthRate: c.growthRate,
        dropRate: c.dropRate,
        memoryEfficient: c.memoryEfficient,
      });
      entries.push([`denseblock${i + 1}`, block]);
      n = block.numOutputFeatures;
      if (i !== c.blockConfig.length - 1) {
        entries.push([`transition${i + 1}`, new Transition(n, Math.floor(n / 2))]);
        n = Math.floor(n / 2);
      }
    });
    entries.push(['norm5', new BatchNorm2d(n)]);
    this.numFeatures = n;
    this.features = this.registerModule('features', Sequential.named(entries));
    this.classifier = this.registerModule('classifier', new Linear(n, c.numClasses));
    // torchvision's loop over self.modules(): kaiming_normal_ (fan_in, gain sqrt 2) on every conv,
    // BN weight 1 and bias 0 (already the BatchNorm2d defaults), Linear bias 0 (its weight keeps
    // nn.Linear's default uniform init).
    for (const [, m] of this.namedModules()) {
      if (m instanceof Conv2d) init.kaimingNormal_(m.param('weight'));
      else if (m instanceof BatchNorm2d) {
        init.ones_(m.param('weight'));
        init.zeros_(m.param('bias'));
      } else if (m instanceof Linear) init.zeros_(m.param('bias'));
    }
  }

  /** Sets every dense layer's mode (the features keep their parameters). */
  setMemoryEfficient(on: boolean): this {
    this.config.memoryEfficient = on;
    for (const [, m] of this.features.namedChildren()) if (m instanceof DenseBlock) m.setMemoryEfficient(on);
    return this;
  }

  /**
   * features -> relu -> global average pool -> flatten -> classifier, as torchvision. A BatchNorm
   * followed by a ReLU (norm0-relu0, and norm5 with the relu after the features) runs as one fused
   * kernel; the numbers are those of the separate modules.
   */
  forward(x: T.Tensor): T.Tensor {
    const f = this.forwardFeatures(x, true);
    const pooled = globalAvgPool2d(f);
    f.dispose();
    const flat = T.flatten(pooled, 1);
    pooled.dispose();
    const y = this.classifier.forward(flat);
    flat.dispose();
    return y;
  }

  /** The features Sequential's output; with `relu`, the ReLU that forward applies after it. */
  forwardFeatures(x: T.Tensor, relu = false): T.Tensor {
    const mods = [...this.features.namedChildren()].map(([, m]) => m);
    let y = x;
    for (let i = 0; i < mods.length; i++) {
      const m = mods[i]!;
      const fuse = m instanceof BatchNorm2d && (i === mods.length - 1 ? relu : mods[i + 1] instanceof ReLU);
      const next = fuse ? (m as BatchNorm2d).forwardRelu(y) : m.forward(y);
      if (fuse && i < mods.length - 1) i++; // the ReLU module just ran inside the fused kernel
      if (y !== x) y.dispose();
      y = next;
    }
    return y;
  }
}

function build(blockConfig: readonly number[], o: DenseNetOptions): DenseNet {
  return new DenseNet({
    growthRate: DEFAULTS.growthRate,
    blockConfig,
    numInitFeatures: DEFAULTS.numInitFeatures,
    bnSize: DEFAULTS.bnSize,
    dropRate: o.dropRate ?? DEFAULTS.dropRate,
    numClasses: o.numClasses ?? DEFAULTS.numClasses,
    memoryEfficient: o.memoryEfficient ?? DEFAULTS.memoryEfficient,
  });
}

/** DenseNet-121: blocks (6, 12, 24, 16), 1024 features, 7,978,856 parameters with 1000 classes. */
export function densenet121(o: DenseNetOptions = {}): DenseNet {
  return build([6, 12, 24, 16], o);
}

/** DenseNet-169: blocks (6, 12, 32, 32), 1664 features. */
export function densenet169(o: DenseNetOptions = {}): DenseNet {
  return build([6, 12, 32, 32], o);
}

/** DenseNet-201: blocks (6, 12, 48, 32), 1920 features. */
export function densenet201(o: DenseNetOptions = {}): DenseNet {
  return build([6, 12, 48, 32], o);
}
