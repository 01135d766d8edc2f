// A Linear layer whose weight may be larger than one storage binding. WebGPU binds a buffer to a
// kernel only up to maxStorageBufferBindingSize (128 MiB by default, and on Mesa lavapipe); the
// paper's FC6 weight, 4096 x 9216 floats, is 144 MiB. So the weight is kept as blocks of output
// rows, each its own tensor under the limit: y = concat_i(x W_iᵀ) + b, which is x Wᵀ + b exactly
// (every output column is the same dot product either way), and autograd gives each block its
// gradient and x the sum of the blocks' contributions. Checkpoints still see one [out, in]
// `weight` (a state group), so files match torch.nn.Linear's whatever the block count.
import * as T from '@spine/tensor';
import { kaimingUniform_, uniform_ } from '../init.js';
import { NnError } from '../errors.js';
import { Module } from './module.js';
import type { StateGroup } from './state-groups.js';

/**
 * WebGPU's default maxStorageBufferBindingSize: every adapter binds at least this much, so blocks
 * under it work everywhere, and the block layout (hence the optimizer state) does not depend on
 * the adapter a run started on.
 */
export const DEFAULT_SHARD_BYTES = 128 * 1024 * 1024;

export interface ShardedLinearOptions {
  bias?: boolean;
  /** Largest block of weight rows in bytes (f32); default DEFAULT_SHARD_BYTES. */
  maxShardBytes?: number;
}

/** Rows per block for an [out, in] f32 weight: as even as possible, every block <= maxBytes. */
export function shardRows(outFeatures: number, inFeatures: number, maxBytes: number): number[] {
  const rowBytes = 4 * inFeatures;
  if (rowBytes > maxBytes)
    throw new NnError(
      `ShardedLinear: one weight row of ${inFeatures} floats (${rowBytes} bytes) exceeds the shard limit of ${maxBytes} bytes`,
    );
  const perShard = Math.floor(maxBytes / rowBytes);
  const count = Math.max(1, Math.ceil(outFeatures / perShard));
  const base = Math.floor(outFeatures / count);
  return Array.from({ length: count }, (_, i) => base + (i < outFeatures % count ? 1 : 0));
}

/**
 * torch.nn.Linear (y = x Wᵀ + b, W [out, in], PyTorch's default init) with W held in row blocks
 * under a byte limit. With one block it is a Linear: the parameter is `weight`. With several the
 * parameters are `weight_shard0`, `weight_shard1`, ... (what stateDict() and the optimizer see),
 * and stateDictData()/loadStateDict() speak of the joined `weight`.
 */
export class ShardedLinear extends Module {
  readonly shardRows: readonly number[];
  private readonly shardNames: readonly string[];

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: ShardedLinearOptions = {},
  ) {
    super();
    const maxBytes = options.maxShardBytes ?? DEFAULT_SHARD_BYTES;
    this.shardRows = shardRows(outFeatures, inFeatures, maxBytes);
    this.shardNames = this.shardRows.length === 1 ? ['weight'] : this.shardRows.map((_, i) => `weight_shard${i}`);
    const shards = this.shardRows.map(
      (rows, i) => this.registerParameter(this.shardNames[i]!, T.empty([rows, inFeatures]))!,
    );
    const b = this.registerParameter('bias', (options.bias ?? true) ? T.empty([outFeatures]) : null);
    // Linear's reset_parameters: W and b from U(-1/sqrt(in), 1/sqrt(in)). Each block has fan_in
    // `in` like the whole, and the blocks draw in row order, so the generator hands out the same
    // numbers as for one [out, in] weight.
    for (const w of shards) kaimingUniform_(w, { a: Math.sqrt(5) });
    if (b) uniform_(b, -1 / Math.sqrt(inFeatures), 1 / Math.sqrt(inFeatures));
  }

  /** The weight blocks, in row order. */
  shards(): T.Tensor[] {
    return this.shardNames.map((n) => this.param(n));
  }

  forward(x: T.Tensor): T.Tensor {
    const parts = this.shards().map((w) => T.matmul(x, w, { transB: true }));
    const y = parts.length === 1 ? parts[0]! : T.concat(parts, -1);
    if (y !== parts[0]) for (const p of parts) p.dispose();
    const b = this.optionalParam('bias');
    if (!b) return y;
    const out = T.add(y, b);
    y.dispose();
    return out;
  }

  protected override stateGroups(): readonly StateGroup[] {
    return this.shardNames.length === 1 ? [] : [{ name: 'weight', parts: this.shardNames }];
  }

  protected override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.optionalParam('bias') !== null}, shards=${this.shardRows.length}`;
  }
}
