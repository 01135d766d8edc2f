import * as T from '@spine/tensor';
import { batchNorm2d, batchNormRelu, localResponseNorm } from '../ops/norm-loss.js';
import { Module } from './module.js';

export interface BatchNormLayerOptions {
  eps?: number;
  momentum?: number;
}

/**
 * torch.nn.BatchNorm2d (affine, tracking running stats): weight 1, bias 0, running_mean 0,
 * running_var 1, num_batches_tracked (kept as a JS count and written into its buffer when a
 * state dict is taken, so training steps do not dispatch a kernel just to count).
 */
export class BatchNorm2d extends Module {
  /** Training batches since num_batches_tracked was last brought up to date. */
  private pendingBatches = 0;

  constructor(
    readonly numFeatures: number,
    readonly options: BatchNormLayerOptions = {},
  ) {
    super();
    this.registerParameter('weight', T.ones([numFeatures]));
    this.registerParameter('bias', T.zeros([numFeatures]));
    this.registerBuffer('running_mean', T.zeros([numFeatures]));
    this.registerBuffer('running_var', T.ones([numFeatures]));
    this.registerBuffer('num_batches_tracked', T.zeros([], 'i32'));
  }

  private opts() {
    return { training: this.training, momentum: this.options.momentum ?? 0.1, eps: this.options.eps ?? 1e-5 };
  }

  /**
   * The op options of the next call, counted as a training batch when training: for code that
   * runs this module's tensors through a fused op (DenseNet's fused BN-ReLU-conv layers).
   */
  batchNormOptions(): { training: boolean; momentum: number; eps: number } {
    if (this.training) this.countBatch();
    return this.opts();
  }

  forward(x: T.Tensor): T.Tensor {
    if (this.training) this.countBatch();
    return batchNorm2d(
      x,
      this.param('weight'),
      this.param('bias'),
      this.buffer('running_mean'),
      this.buffer('running_var'),
      this.opts(),
    );
  }

  /** BatchNorm followed by ReLU in one kernel (DenseNet's norm-relu pairs). */
  forwardRelu(x: T.Tensor): T.Tensor {
    if (this.training) this.countBatch();
    return batchNormRelu(
      x,
      this.param('weight'),
      this.param('bias'),
      this.buffer('running_mean'),
      this.buffer('running_var'),
      this.opts(),
    );
  }

  /** Count a training batch; a replayed step (T.replayable) counts it again on every replay. */
  private countBatch(): void {
    T.hostEffect(() => this.pendingBatches++);
  }

  protected override beforeStateDict(): void {
    if (!this.pendingBatches) return;
    const n = this.buffer('num_batches_tracked');
    T.noGrad(() => T.scope(() => T.assign(n, T.add(n, this.pendingBatches))));
    this.pendingBatches = 0;
  }

  // Old checkpoints (torchvision's ImageNet files among them) have no num_batches_tracked;
  // PyTorch loads them keeping the module's own count, 0 in a new model.
  protected override defaultsFor(name: string): boolean {
    return name === 'num_batches_tracked';
  }

  protected override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.options.eps ?? 1e-5}, momentum=${this.options.momentum ?? 0.1}`;
  }
}

/** torch.nn.LocalResponseNorm: PyTorch's formula (alpha is divided by size). */
export class LocalResponseNorm extends Module {
  constructor(
    readonly size: number,
    readonly alpha = 1e-4,
    readonly beta = 0.75,
    readonly k = 1,
  ) {
    super();
  }

  forward(x: T.Tensor): T.Tensor {
    return localResponseNorm(x, { size: this.size, alpha: this.alpha, beta: this.beta, k: this.k });
  }

  protected override extraRepr(): string {
    return `${this.size}, alpha=${this.alpha}, beta=${this.beta}, k=${this.k}`;
  }
}
