// ResNet-18/34/50 (He et al.) with torchvision 0.14's module tree, state-dict keys and
// initialisation (torchvision/models/resnet.py), so a torchvision checkpoint loads with strict
// key matching:
//   conv1, bn1, relu, maxpool, layer1..layer4 (each a Sequential of blocks '0', '1', ...), avgpool, fc
//   block: conv1, bn1, conv2, bn2 (BasicBlock) or conv1..conv3, bn1..bn3 (Bottleneck), relu,
//          downsample = Sequential(conv1x1 with the block's stride, BatchNorm2d) where shape changes
// Bottleneck puts the stride on its 3x3 conv (torchvision's "ResNet V1.5").
import * as T from '@spine/tensor';
import {
  AdaptiveAvgPool2d,
  BatchNorm2d,
  Conv2d,
  globalAvgPool2d,
  init,
  Linear,
  MaxPool2d,
  Module,
  ReLU,
  Sequential,
} from '@spine/nn';

export type ResNetBlock = 'basic' | 'bottleneck';

export interface ResNetConfig {
  block: ResNetBlock;
  /** Blocks per stage (torchvision's `layers`), four stages. */
  layers: readonly [number, number, number, number];
  numClasses: number;
  /** Zero the last BatchNorm weight of every block, so each residual branch starts as identity. */
  zeroInitResidual: boolean;
  /** Bottleneck 3x3 conv groups (ResNeXt); 1 for ResNet. */
  groups: number;
  /** Bottleneck width per group at 64 planes (torchvision's width_per_group); 64 for ResNet. */
  widthPerGroup: number;
  /**
   * Planes per stage; torchvision fixes them at (64, 128, 256, 512), and the stem has widths[0]
   * channels. Smaller widths give the same architecture at a fraction of the size (test models).
   */
  widths: readonly [number, number, number, number];
}

export type ResNetOptions = Partial<Pick<ResNetConfig, 'numClasses' | 'zeroInitResidual' | 'widths'>>;

const TORCHVISION_WIDTHS = [64, 128, 256, 512] as const;

const conv3x3 = (inC: number, outC: number, stride = 1, groups = 1) =>
  new Conv2d(inC, outC, 3, { stride, padding: 1, groups, bias: false });
const conv1x1 = (inC: number, outC: number, stride = 1) => new Conv2d(inC, outC, 1, { stride, bias: false });

/** The block's input mapped to its output shape: `downsample` when there is one, else the input. */
function shortcut(downsample: Sequential | null, x: T.Tensor): T.Tensor {
  return downsample ? downsample.forward(x) : x;
}

/** out + identity -> ReLU, freeing both operands this block made. */
function addRelu(out: T.Tensor, identity: T.Tensor, x: T.Tensor): T.Tensor {
  const sum = T.add(out, identity);
  out.dispose();
  if (identity !== x) identity.dispose();
  const y = T.relu(sum);
  sum.dispose();
  return y;
}

/** Two 3x3 convs (ResNet-18/34); expansion 1. */
export class BasicBlock extends Module {
  static readonly expansion = 1;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Sequential | null;

  constructor(inplanes: number, planes: number, stride: number, downsample: Sequential | null) {
    super();
    this.conv1 = this.registerModule('conv1', conv3x3(inplanes, planes, stride));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.registerModule('relu', new ReLU());
    this.conv2 = this.registerModule('conv2', conv3x3(planes, planes));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.downsample = downsample ? this.registerModule('downsample', downsample) : null;
  }

  /** The BatchNorm whose weight zero_init_residual zeroes. */
  get lastNorm(): BatchNorm2d {
    return this.bn2;
  }

  forward(x: T.Tensor): T.Tensor {
    const a = this.conv1.forward(x);
    const b = this.bn1.forwardRelu(a);
    a.dispose();
    const c = this.conv2.forward(b);
    b.dispose();
    const out = this.bn2.forward(c);
    c.dispose();
    return addRelu(out, shortcut(this.downsample, x), x);
  }
}

/** 1x1 reduce, 3x3 (strided, grouped), 1x1 expand (ResNet-50 and deeper); expansion 4. */
export class Bottleneck extends Module {
  static readonly expansion = 4;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly downsample: Sequential | null;

  constructor(
    inplanes: number,
    planes: number,
    stride: number,
    downsample: Sequential | null,
    groups: number,
    baseWidth: number,
  ) {
    super();
    const width = Math.floor(planes * (baseWidth / 64)) * groups;
    this.conv1 = this.registerModule('conv1', conv1x1(inplanes, width));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(width));
    this.conv2 = this.registerModule('conv2', conv3x3(width, width, stride, groups));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(width));
    this.conv3 = this.registerModule('conv3', conv1x1(width, planes * Bottleneck.expansion));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(planes * Bottleneck.expansion));
    this.registerModule('relu', new ReLU());
    this.downsample = downsample ? this.registerModule('downsample', downsample) : null;
  }

  get lastNorm(): BatchNorm2d {
    return this.bn3;
  }

  forward(x: T.Tensor): T.Tensor {
    const a = this.conv1.forward(x);
    const b = this.bn1.forwardRelu(a);
    a.dispose();
    const c = this.conv2.forward(b);
    b.dispose();
    const d = this.bn2.forwardRelu(c);
    c.dispose();
    const e = this.conv3.forward(d);
    d.dispose();
    const out = this.bn3.forward(e);
    e.dispose();
    return addRelu(out, shortcut(this.downsample, x), x);
  }
}

export class ResNet extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly maxpool: MaxPool2d;
  readonly layer1: Sequential;
  readonly layer2: Sequential;
  readonly layer3: Sequential;
  readonly layer4: Sequential;
  readonly fc: Linear;
  /** Channels into fc (512 for ResNet-18/34, 2048 for ResNet-50). */
  readonly numFeatures: number;
  readonly config: ResNetConfig;

  constructor(config: ResNetConfig) {
    super();
    const c = (this.config = { ...config, layers: [...config.layers], widths: [...config.widths] });
    if (c.layers.length !== 4 || !c.layers.every((n) => Number.isInteger(n) && n > 0))
      throw new RangeError(`ResNet: layers must be four positive integers, got [${c.layers.join(', ')}]`);
    if (c.widths.length !== 4 || !c.widths.every((n) => Number.isInteger(n) && n > 0))
      throw new RangeError(`ResNet: widths must be four positive integers, got [${c.widths.join(', ')}]`);
    if (c.block === 'basic' && (c.groups !== 1 || c.widthPerGroup !== 64))
      throw new RangeError('ResNet: BasicBlock only supports groups=1 and widthPerGroup=64 (as torchvision)');
    const expansion = c.block === 'basic' ? BasicBlock.expansion : Bottleneck.expansion;
    let inplanes = c.widths[0];
    this.conv1 = this.registerModule('conv1', new Conv2d(3, inplanes, 7, { stride: 2, padding: 3, bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(inplanes));
    this.registerModule('relu', new ReLU());
    this.maxpool = this.registerModule('maxpool', new MaxPool2d(3, { stride: 2, padding: 1 }));
    const makeLayer = (planes: number, blocks: number, stride: number): Sequential => {
      const out = planes * expansion;
      const downsample =
        stride !== 1 || inplanes !== out ? new Sequential(conv1x1(inplanes, out, stride), new BatchNorm2d(out)) : null;
      const seq = new Sequential();
      for (let i = 0; i < blocks; i++) {
        const s = i === 0 ? stride : 1;
        const ds = i === 0 ? downsample : null;
        seq.append(
          c.block === 'basic'
            ? new BasicBlock(inplanes, planes, s, ds)
            : new Bottleneck(inplanes, planes, s, ds, c.groups, c.widthPerGroup),
        );
        inplanes = out;
      }
      return seq;
    };
    this.layer1 = this.registerModule('layer1', makeLayer(c.widths[0], c.layers[0], 1));
    this.layer2 = this.registerModule('layer2', makeLayer(c.widths[1], c.layers[1], 2));
    this.layer3 = this.registerModule('layer3', makeLayer(c.widths[2], c.layers[2], 2));
    this.layer4 = this.registerModule('layer4', makeLayer(c.widths[3], c.layers[3], 2));
    this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
    this.numFeatures = c.widths[3] * expansion;
    this.fc = this.registerModule('fc', new Linear(this.numFeatures, c.numClasses));
    // torchvision's loop over self.modules(): kaiming_normal_(fan_out, relu) on every conv, BN
    // weight 1 and bias 0; fc keeps nn.Linear's default init.
    for (const [, m] of this.namedModules()) {
      if (m instanceof Conv2d) init.kaimingNormal_(m.param('weight'), { mode: 'fan_out', nonlinearity: 'relu' });
      else if (m instanceof BatchNorm2d) {
        init.ones_(m.param('weight'));
        init.zeros_(m.param('bias'));
      }
    }
    if (c.zeroInitResidual) {
      for (const [, m] of this.namedModules())
        if (m instanceof BasicBlock || m instanceof Bottleneck) init.zeros_(m.lastNorm.param('weight'));
    }
  }

  /** conv1 -> bn1 -> relu -> maxpool -> layer1..4 (the input of avgpool). */
  forwardFeatures(x: T.Tensor): T.Tensor {
    const a = this.conv1.forward(x);
    const b = this.bn1.forwardRelu(a); // bn1 + relu in one kernel; the numbers of the two modules
    a.dispose();
    let y = this.maxpool.forward(b);
    b.dispose();
    for (const layer of [this.layer1, this.layer2, this.layer3, this.layer4]) {
      const next = layer.forward(y);
      y.dispose();
      y = next;
    }
    return y;
  }

  /** features -> global average pool -> flatten -> fc, as torchvision. */
  forward(x: T.Tensor): T.Tensor {
    const f = this.forwardFeatures(x);
    const pooled = globalAvgPool2d(f);
    f.dispose();
    const flat = T.flatten(pooled, 1);
    pooled.dispose();
    const y = this.fc.forward(flat);
    flat.dispose();
    return y;
  }
}

function build(block: ResNetBlock, layers: ResNetConfig['layers'], o: ResNetOptions): ResNet {
  return new ResNet({
    block,
    layers,
    numClasses: o.numClasses ?? 1000,
    zeroInitResidual: o.zeroInitResidual ?? false,
    groups: 1,
    widthPerGroup: 64,
    widths: o.widths ?? TORCHVISION_WIDTHS,
  });
}

/** ResNet-18: BasicBlocks (2, 2, 2, 2), 11,689,512 parameters with 1000 classes. */
export function resnet18(o: ResNetOptions = {}): ResNet {
  return build('basic', [2, 2, 2, 2], o);
}

/** ResNet-34: BasicBlocks (3, 4, 6, 3), 21,797,672 parameters with 1000 classes. */
export function resnet34(o: ResNetOptions = {}): ResNet {
  return build('basic', [3, 4, 6, 3], o);
}

/** ResNet-50: Bottlenecks (3, 4, 6, 3), 25,557,032 parameters with 1000 classes. */
export function resnet50(o: ResNetOptions = {}): ResNet {
  return build('bottleneck', [3, 4, 6, 3], o);
}
