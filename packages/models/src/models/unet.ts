// A small U-Net (Ronneberger et al.) for segmentation, with padded convolutions so the output has
// the input's height and width, and BatchNorm after every conv. For depth D and base width B:
//   encoder.0     DoubleConv(inChannels -> B)
//   encoder.i     2x2 max pool, DoubleConv(B 2^(i-1) -> B 2^i)             i = 1..D
//   decoder.j     up: ConvTranspose2d(C -> C/2, 2, stride 2), C = B 2^(D-j)  j = 0..D-1
//                 conv: DoubleConv(C -> C/2) on concat([skip, up], channels), the skip being
//                 encoder.(D-1-j)'s output
//   head          Conv2d(B -> outChannels, 1) with bias: per-pixel logits
//   DoubleConv    conv1 (3x3, padding 1, no bias), bn1, ReLU, conv2 (same), bn2, ReLU
// Height and width must be divisible by 2^D. Every layer keeps PyTorch's default init; the keys
// are those of the same network written in PyTorch (scripts/make-resnet-unet-fixtures.py).
import * as T from '@spine/tensor';
import { BatchNorm2d, Conv2d, ConvTranspose2d, maxPool2d, Module, Sequential } from '@spine/nn';

export interface UNetConfig {
  inChannels: number;
  outChannels: number;
  /** Channels after the first DoubleConv; doubled at every level down. */
  base: number;
  /** Number of 2x downsamplings. */
  depth: number;
}

/** (3x3 conv -> BatchNorm -> ReLU) twice. */
export class DoubleConv extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;

  constructor(inChannels: number, outChannels: number) {
    super();
    this.conv1 = this.registerModule('conv1', new Conv2d(inChannels, outChannels, 3, { padding: 1, bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(outChannels));
    this.conv2 = this.registerModule('conv2', new Conv2d(outChannels, outChannels, 3, { padding: 1, bias: false }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(outChannels));
  }

  forward(x: T.Tensor): T.Tensor {
    const a = this.conv1.forward(x);
    const b = this.bn1.forwardRelu(a);
    a.dispose();
    const c = this.conv2.forward(b);
    b.dispose();
    const y = this.bn2.forwardRelu(c);
    c.dispose();
    return y;
  }
}

/** One decoder level: upsample by a transposed conv, concatenate the skip, DoubleConv. */
export class UpStage extends Module {
  readonly up: ConvTranspose2d;
  readonly conv: DoubleConv;

  constructor(inChannels: number) {
    super();
    const half = inChannels / 2;
    this.up = this.registerModule('up', new ConvTranspose2d(inChannels, half, 2, { stride: 2 }));
    this.conv = this.registerModule('conv', new DoubleConv(inChannels, half));
  }

  /** `forward(x, skip)`: x from the level below, skip from the encoder at this level. */
  forward(x: T.Tensor, skip?: T.Tensor): T.Tensor {
    if (!skip) throw new RangeError('UpStage.forward needs the skip connection as its second input');
    const u = this.up.forward(x);
    const cat = T.concat([skip, u], 1);
    u.dispose();
    const y = this.conv.forward(cat);
    cat.dispose();
    return y;
  }
}

export class UNet extends Module {
  readonly encoder: Sequential;
  readonly decoder: Sequential;
  readonly head: Conv2d;
  readonly config: UNetConfig;

  constructor(config: UNetConfig) {
    super();
    const c = (this.config = { ...config });
    for (const k of ['inChannels', 'outChannels', 'base', 'depth'] as const) {
      if (!Number.isInteger(c[k]) || c[k] < (k === 'depth' ? 0 : 1))
        throw new RangeError(
          `UNet: ${k} must be a ${k === 'depth' ? 'non-negative' : 'positive'} integer, got ${c[k]}`,
        );
    }
    this.encoder = this.registerModule('encoder', new Sequential(new DoubleConv(c.inChannels, c.base)));
    for (let i = 1; i <= c.depth; i++) this.encoder.append(new DoubleConv(c.base * 2 ** (i - 1), c.base * 2 ** i));
    this.decoder = this.registerModule('decoder', new Sequential());
    for (let j = 0; j < c.depth; j++) this.decoder.append(new UpStage(c.base * 2 ** (c.depth - j)));
    this.head = this.registerModule('head', new Conv2d(c.base, c.outChannels, 1));
  }

  /** [N, inChannels, H, W] -> [N, outChannels, H, W] logits; H and W divisible by 2^depth. */
  forward(x: T.Tensor): T.Tensor {
    const { depth, inChannels } = this.config;
    const [, ch, h, w] = x.shape;
    const step = 2 ** depth;
    if (x.rank !== 4 || ch !== inChannels)
      throw new RangeError(`UNet: expected input [N, ${inChannels}, H, W], got [${x.shape.join(', ')}]`);
    if (h! % step !== 0 || w! % step !== 0)
      throw new RangeError(`UNet: height and width must be divisible by 2^depth = ${step}, got ${h}x${w}`);
    const skips: T.Tensor[] = [];
    let y = this.encoder.at(0).forward(x);
    for (let i = 1; i <= depth; i++) {
      skips.push(y);
      const p = maxPool2d(y, { kernel: 2, stride: 2 });
      y = this.encoder.at(i).forward(p);
      p.dispose();
    }
    for (let j = 0; j < depth; j++) {
      const skip = skips.pop()!;
      const next = this.decoder.at(j).forward(y, skip);
      y.dispose();
      skip.dispose();
      y = next;
    }
    const out = this.head.forward(y);
    y.dispose();
    return out;
  }
}

/** A U-Net with the given channels; base 16 and depth 3 unless set (about 0.5 M parameters). */
export function unet(o: { inChannels: number; outChannels: number; base?: number; depth?: number }): UNet {
  return new UNet({ inChannels: o.inChannels, outChannels: o.outChannels, base: o.base ?? 16, depth: o.depth ?? 3 });
}
