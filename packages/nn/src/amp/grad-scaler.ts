// Dynamic loss scaling, torch.amp.GradScaler's semantics: the loss is multiplied by the scale
// before backward, so that small f16 gradients do not flush to zero; before the optimizer step
// the gradients are divided by it again and checked, and a step whose gradients hold an
// infinity or NaN is skipped and the scale halved (backoff); after `growthInterval` steps in a
// row without one, the scale doubles (growth).
//
// Two ways to run it. step() and update() skip on the host: step() reads one flag per step
// (PyTorch reads it too, unless its optimizers are fused). stepOnDevice() keeps the scale, the
// overflow flag and the growth count in tensors and skips on the device (SGD's update reads
// the flag), so a step reads nothing back and can be replayed (T.replayable); the host copy of
// the state (getScale, stateDict, skippedSteps) is then refreshed by syncFromDevice().
import * as T from '@spine/tensor';
import { NnError } from '../errors.js';

export interface GradScalerOptions {
  /** Default 65536 (2^16). */
  initScale?: number;
  /** Default 2. */
  growthFactor?: number;
  /** Default 0.5. */
  backoffFactor?: number;
  /** Steps without an overflow before the scale grows; default 2000. */
  growthInterval?: number;
  /** Off: scale() returns the loss, step() steps, update() does nothing (default on). */
  enabled?: boolean;
}

/** What a GradScaler needs of an optimizer: its parameters (with `.grad`) and its update. */
export interface ScaledOptimizer {
  readonly paramGroups: readonly { params: readonly T.Tensor[] }[];
  step(): void;
}

/** An optimizer whose update the device skips where `skipIf` (an i32 [1] tensor) is not 0: SGD. */
export interface DeviceSkippedOptimizer extends ScaledOptimizer {
  step(options?: { skipIf?: T.Tensor }): void;
}

/** PyTorch's GradScaler state dict keys. */
export interface GradScalerState {
  scale: number;
  growth_factor: number;
  backoff_factor: number;
  growth_interval: number;
  _growth_tracker: number;
}

const WG = 64;
/** Gradients per dispatch at most (the uniform block holds their end offsets). */
const MAX_SLOTS = 32;

// Outputs: `slots` gradients (scaled in place) and the overflow flag (set to 1 by any non-finite
// element). Words: 1 / scale (`deviceScale`: unused, the scale is read from its tensor, the one
// input), total elements, then each slot's end offset. An invocation finds its slot by walking
// the ends (a binding cannot be indexed dynamically), so a model's hundreds of gradients take a
// few dispatches. Gradients are read as bits, so that no fast-math assumption about infinities
// and NaNs can hide one.
const unscaleKernel = T.defineKernel<{ slots: number; deviceScale: boolean }>({
  name: 'grad-unscale-check',
  inputs: (o) => (o.deviceScale ? 1 : 0),
  outputs: (o) => o.slots + 1,
  source: ({ slots, deviceScale }) => {
    const first = deviceScale ? 2 : 1;
    const slot = (s: number) => `{
    let j = i - ${s === 0 ? '0u' : `pu(${1 + s}u)`};
    let b = g${s}[j];
    if ((b & 0x7f800000u) == 0x7f800000u) { atomicMax(&flag[0], 1u); } else { g${s}[j] = bitcast<u32>(bitcast<f32>(b) * inv); }
  }`;
    return `${T.uniformPreamble()}
${deviceScale ? '@group(0) @binding(1) var<storage, read> scale: array<f32>;' : ''}
${Array.from({ length: slots }, (_, s) => `@group(0) @binding(${first + s}) var<storage, read_write> g${s}: array<u32>;`).join('\n')}
@group(0) @binding(${first + slots}) var<storage, read_write> flag: array<atomic<u32>>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${T.linearIndex(WG)};
  if (i >= pu(1u)) { return; }
  let inv = ${deviceScale ? '1.0 / scale[0]' : 'pf(0u)'};
  ${Array.from({ length: slots }, (_, s) => `${s === 0 ? '' : ' else '}if (i < pu(${2 + s}u)) ${slot(s)}`).join('')}
}`;
  },
});

// One invocation after the step, on the tensors of stepOnDevice: back off (and count a skipped
// step) where the flag is set, else grow after `interval` steps in a row; then clear the flag.
// Words: growth, backoff (f32), interval. Counts: growth tracker, skipped steps, last skipped.
const updateKernel = T.defineKernel({
  name: 'grad-scale-update',
  inputs: 0,
  outputs: 3,
  source: () => `${T.uniformPreamble()}
@group(0) @binding(1) var<storage, read_write> scale: array<f32>;
@group(0) @binding(2) var<storage, read_write> counts: array<i32>;
@group(0) @binding(3) var<storage, read_write> flag: array<i32>;
@compute @workgroup_size(1)
fn main() {
  if (flag[0] != 0) {
    scale[0] = scale[0] * pf(1u);
    counts[0] = 0;
    counts[1] = counts[1] + 1;
    counts[2] = 1;
  } else {
    counts[2] = 0;
    counts[0] = counts[0] + 1;
    if (u32(counts[0]) == pu(2u)) {
      scale[0] = scale[0] * pf(0u);
      counts[0] = 0;
    }
  }
  flag[0] = 0;
}`,
});

/** stepOnDevice's state: the scale, [growth tracker, skipped steps, last step skipped], the overflow flag. */
interface DeviceState {
  scale: T.Tensor;
  counts: T.Tensor;
  flag: T.Tensor;
}

export class GradScaler {
  private scaleValue: number;
  private readonly growthFactor: number;
  private readonly backoffFactor: number;
  private readonly growthInterval: number;
  readonly enabled: boolean;
  private growthTracker = 0;
  /** Per optimizer: the overflow flag of its unscaled gradients this step. */
  private readonly found = new Map<ScaledOptimizer, T.Tensor>();
  /** Whether any optimizer's gradients overflowed this step (known after step()). */
  private overflowed: boolean | null = null;
  private skipped: boolean | null = null;
  private skippedTotal = 0;
  /** stepOnDevice's tensors, made on its first call (from the host values). */
  private device: DeviceState | null = null;

  constructor(o: GradScalerOptions = {}) {
    this.scaleValue = o.initScale ?? 65536;
    this.growthFactor = o.growthFactor ?? 2;
    this.backoffFactor = o.backoffFactor ?? 0.5;
    this.growthInterval = o.growthInterval ?? 2000;
    this.enabled = o.enabled ?? true;
    if (!(this.scaleValue > 0) || !Number.isFinite(this.scaleValue))
      throw new NnError(`GradScaler: initScale must be a positive number, got ${this.scaleValue}`);
    if (!(this.growthFactor > 1)) throw new NnError(`GradScaler: growthFactor must be > 1, got ${this.growthFactor}`);
    if (!(this.backoffFactor > 0 && this.backoffFactor < 1))
      throw new NnError(`GradScaler: backoffFactor must be in (0, 1), got ${this.backoffFactor}`);
    if (!Number.isInteger(this.growthInterval) || this.growthInterval < 1)
      throw new NnError(`GradScaler: growthInterval must be a positive integer, got ${this.growthInterval}`);
  }

  /** The current scale (1 when disabled). */
  getScale(): number {
    return this.enabled ? this.scaleValue : 1;
  }

  /** loss · scale (differentiable; the loss itself when disabled): backward() of it gives scaled gradients. */
  scale(loss: T.Tensor): T.Tensor {
    return this.enabled ? T.mul(loss, this.scaleValue) : loss;
  }

  /**
   * Divide the optimizer's gradients by the scale, in place, and record whether any is not
   * finite. At most once per optimizer between updates (call it before clipping gradients).
   */
  unscale_(optimizer: ScaledOptimizer): void {
    if (!this.enabled) return;
    if (this.device)
      throw new NnError('GradScaler.unscale_: this scaler steps on the device (stepOnDevice unscales there)');
    if (this.found.has(optimizer))
      throw new NnError('GradScaler.unscale_: already called for this optimizer since the last update()');
    const flag = T.zeros([1], 'i32').keep();
    this.unscaleInto(optimizer, flag, null);
    this.found.set(optimizer, flag);
  }

  /** Divide the gradients by the scale (`scale`: read from that tensor) and set `flag` on a non-finite one. */
  private unscaleInto(optimizer: ScaledOptimizer, flag: T.Tensor, scale: T.Tensor | null): void {
    const inv = 1 / this.scaleValue;
    // Gradients that share storage (autograd hands y = a + b's one gradient to both a and b)
    // are scaled once.
    const grads: T.Tensor[] = [];
    const seen = new Set<GPUBuffer>();
    for (const group of optimizer.paramGroups)
      for (const p of group.params) {
        const g = p.grad;
        if (!g || g.size === 0 || seen.has(g.buffer)) continue;
        seen.add(g.buffer);
        grads.push(g);
      }
    // The flag (and a scale read from the device) take a storage binding each; the gradients share the rest.
    const reserved = scale ? 2 : 1;
    const perDispatch = Math.max(
      1,
      Math.min(MAX_SLOTS, T.getEngine().info.limits.maxStorageBuffersPerShaderStage - reserved),
    );
    for (let at = 0; at < grads.length; at += perDispatch) {
      const batch = grads.slice(at, at + perDispatch);
      const ends: number[] = [];
      let total = 0;
      for (const g of batch) ends.push((total += g.size));
      T.runKernel(
        unscaleKernel,
        { slots: batch.length, deviceScale: scale !== null },
        {
          inputs: scale ? [scale] : [],
          outputs: [...batch, flag],
          uniforms: new T.Uniforms().f32(scale ? 0 : inv).u32(total, ...ends),
          workgroups: T.grid1d(total, WG),
        },
      );
    }
  }

  /**
   * Unscale (unless unscale_ ran) and step the optimizer unless a gradient is not finite.
   * Resolves to whether it stepped.
   */
  async step(optimizer: ScaledOptimizer): Promise<boolean> {
    if (!this.enabled) {
      optimizer.step();
      return true;
    }
    if (!this.found.has(optimizer)) this.unscale_(optimizer);
    const overflow = (await this.found.get(optimizer)!.item()) !== 0;
    this.overflowed = (this.overflowed ?? false) || overflow;
    if (!overflow) optimizer.step();
    return !overflow;
  }

  /** Adjust the scale after this step's step() calls: back off on an overflow, grow after a run without. */
  update(): void {
    if (!this.enabled) return;
    if (this.device)
      throw new NnError('GradScaler.update: this scaler steps on the device (stepOnDevice updates it there)');
    if (this.overflowed === null)
      throw new NnError('GradScaler.update: no step() since the last update(); call step(optimizer) first');
    if (this.overflowed) {
      this.scaleValue *= this.backoffFactor;
      this.growthTracker = 0;
      this.skippedTotal++;
    } else if (++this.growthTracker === this.growthInterval) {
      this.scaleValue *= this.growthFactor;
      this.growthTracker = 0;
    }
    this.skipped = this.overflowed;
    this.overflowed = null;
    for (const flag of this.found.values()) flag.dispose();
    this.found.clear();
  }

  /** Whether the step that the last update() closed was skipped for an overflow (null before one). */
  get lastStepSkipped(): boolean | null {
    return this.skipped;
  }

  /** Steps skipped for an overflow so far (on the device: as of the last syncFromDevice()). */
  get skippedSteps(): number {
    return this.skippedTotal;
  }

  /** The loss times the scale where it lives on the device (stepOnDevice's loop; the loss itself when disabled). */
  scaleOnDevice(loss: T.Tensor): T.Tensor {
    return this.enabled ? T.mul(loss, T.reshape(this.onDevice().scale, [])) : loss;
  }

  /**
   * unscale_, step and update with nothing read back: the gradients are divided by the scale
   * tensor and checked, the optimizer's update is skipped on the device where one is not
   * finite, and the scale backs off or grows there. For a single optimizer per step; a step
   * recorded this way can be replayed. syncFromDevice() brings the state to the host.
   */
  stepOnDevice(optimizer: DeviceSkippedOptimizer): void {
    if (!this.enabled) {
      optimizer.step();
      return;
    }
    if (this.found.size) throw new NnError('GradScaler.stepOnDevice: unscale_ or step ran since the last update()');
    const d = this.onDevice();
    this.unscaleInto(optimizer, d.flag, d.scale);
    optimizer.step({ skipIf: d.flag });
    T.runKernel(
      updateKernel,
      {},
      {
        inputs: [],
        outputs: [d.scale, d.counts, d.flag],
        uniforms: new T.Uniforms().f32(this.growthFactor, this.backoffFactor).u32(this.growthInterval),
        workgroups: [1, 1, 1],
      },
    );
  }

  /** Read stepOnDevice's state into getScale(), stateDict(), lastStepSkipped and skippedSteps. */
  async syncFromDevice(): Promise<void> {
    if (!this.device) return;
    const [scale, counts] = [await this.device.scale.data(), await this.device.counts.data()];
    this.scaleValue = scale[0]!;
    this.growthTracker = counts[0]!;
    this.skippedTotal = counts[1]!;
    this.skipped = counts[2] !== 0;
  }

  /** stepOnDevice's tensors, made from the host values on first use. */
  private onDevice(): DeviceState {
    this.device ??= {
      scale: T.tensor([this.scaleValue]).keep(),
      counts: T.tensor(Int32Array.from([this.growthTracker, this.skippedTotal, 0]), [3]).keep(),
      flag: T.zeros([1], 'i32').keep(),
    };
    return this.device;
  }

  /** Free stepOnDevice's tensors (the host values stay as last synced). */
  dispose(): void {
    if (!this.device) return;
    for (const t of Object.values(this.device)) t.dispose();
    this.device = null;
  }

  /** The state as PyTorch names it (after stepOnDevice: as of the last syncFromDevice()). */
  stateDict(): GradScalerState {
    return {
      scale: this.scaleValue,
      growth_factor: this.growthFactor,
      backoff_factor: this.backoffFactor,
      growth_interval: this.growthInterval,
      _growth_tracker: this.growthTracker,
    };
  }

  /** Restore the scale and the count of steps since the last overflow (the factors are this scaler's own). */
  loadStateDict(state: Pick<GradScalerState, 'scale' | '_growth_tracker'>): void {
    if (!(state.scale > 0)) throw new NnError(`GradScaler.loadStateDict: scale must be positive, got ${state.scale}`);
    this.scaleValue = state.scale;
    this.growthTracker = state._growth_tracker;
    if (this.device) {
      T.writeData(this.device.scale, Float32Array.from([state.scale]));
      T.writeData(this.device.counts, Int32Array.from([state._growth_tracker, this.skippedTotal, 0]));
    }
  }
}
