// Scratch textures: rgba32float textures that hold a kernel's operands between two dispatches
// of the same op (the cpu-family matmul stages A and B in them, ops/matmul/matmul-texture.ts).
//
// Why textures at all: on llvmpipe a storage-buffer load whose address differs per lane runs
// as a loop over the lanes with a bounds check and a branch per element, while a texel fetch is
// a vectorised gather (ops/matmul/matmul-texture.ts; docs/PERFORMANCE.md, "Texture operands").
//
// Textures are kept per slot and size (a larger one serves smaller requests): a training loop
// repeats the same shapes, so after the first step every request is a hit. Reuse needs no fence: WebGPU orders the dispatches of a
// queue, so a slot rewritten by the next op waits for the reads of the previous one. Above the
// byte cap the least recently used textures are destroyed after the next submit (commands
// recorded but not yet submitted may still use them).
import { TextureUsage } from './gpu-constants.js';

/** n rounded up to a multiple of a quarter of its power of two (never past `max`). */
export function roundUp(n: number, max: number): number {
  if (n <= 8) return n;
  const step = 2 ** (Math.floor(Math.log2(n)) - 2);
  return Math.min(Math.ceil(n / step) * step, Math.max(n, max));
}

export interface ScratchTexture {
  texture: GPUTexture;
  view: GPUTextureView;
}

interface Entry {
  texture: GPUTexture;
  view: GPUTextureView;
  slot: string;
  width: number;
  height: number;
  bytes: number;
  used: number;
}

export class ScratchTextures {
  private readonly entries = new Map<string, Entry>();
  private retired: Entry[] = [];
  private clock = 0;
  bytes = 0;
  /** Told about every texture destroyed, with its view (the engine forgets bind groups that bind it). */
  onDestroy: ((view: GPUTextureView, texture: GPUTexture) => void) | null = null;

  constructor(
    private readonly device: GPUDevice,
    /** Bytes kept before the least recently used textures retire (tests lower it). */
    public capBytes: number,
    private readonly maxDimension: number,
  ) {}

  /** Textures held (not counting retired ones awaiting the submit). */
  get count(): number {
    return this.entries.size;
  }

  /**
   * An rgba32float texture of at least width x height for `slot`: sampled, storage texture and
   * copy target; callers address their logical region only. The smallest held texture of the slot
   * that is large enough serves; otherwise a new one, its sizes rounded up to one of four steps
   * per octave (at most 25% more), replaces every texture of the slot that it covers. So a dense
   * block's growing channel counts end up sharing one texture instead of holding one each.
   */
  get(slot: string, width: number, height: number): ScratchTexture {
    let e: Entry | undefined;
    for (const c of this.entries.values()) {
      if (c.slot === slot && c.width >= width && c.height >= height && (!e || c.bytes < e.bytes)) e = c;
    }
    if (!e) {
      const [w, h] = [roundUp(width, this.maxDimension), roundUp(height, this.maxDimension)];
      for (const [k, c] of this.entries) if (c.slot === slot && c.width <= w && c.height <= h) this.retire(k, c);
      const texture = this.device.createTexture({
        size: [w, h],
        format: 'rgba32float',
        usage: TextureUsage.TEXTURE_BINDING | TextureUsage.STORAGE_BINDING | TextureUsage.COPY_DST,
        label: `scratch ${slot} ${w}x${h}`,
      });
      e = { texture, view: texture.createView(), slot, width: w, height: h, bytes: w * h * 16, used: 0 };
      this.entries.set(`${slot}:${w}x${h}`, e);
      this.bytes += e.bytes;
    }
    this.evict(`${e.slot}:${e.width}x${e.height}`);
    e.used = ++this.clock;
    return e;
  }

  private retire(key: string, e: Entry): void {
    this.entries.delete(key);
    this.bytes -= e.bytes;
    this.retired.push(e);
  }

  /** Retire least recently used textures (never `keep`) until the total fits the cap. */
  private evict(keep: string): void {
    if (this.bytes <= this.capBytes) return;
    const byAge = [...this.entries.entries()].filter(([k]) => k !== keep).sort((a, b) => a[1].used - b[1].used);
    for (const [k, e] of byAge) {
      if (this.bytes <= this.capBytes) break;
      this.retire(k, e);
    }
  }

  /** After a submit: destroy retired textures (their last uses are queued, so this is safe). */
  afterSubmit(): void {
    for (const e of this.retired) this.destroy(e);
    this.retired = [];
  }

  private destroy(e: Entry): void {
    this.onDestroy?.(e.view, e.texture);
    e.texture.destroy();
  }

  destroyAll(): void {
    for (const e of this.entries.values()) this.destroy(e);
    for (const e of this.retired) this.destroy(e);
    this.entries.clear();
    this.retired = [];
    this.bytes = 0;
  }
}
