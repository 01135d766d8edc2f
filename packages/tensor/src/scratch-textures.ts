// Scratch textures: rgba32float textures that hold a kernel's operands between two dispatches
// of the same op (the cpu-family matmul stages A and B in them, ops/matmul-texture.ts).
//
// Why textures at all: on llvmpipe a storage-buffer load whose address differs per lane runs
// as a loop over the lanes with a bounds check and a branch per element, while a texel fetch is
// a vectorised gather (ops/matmul-texture.ts; bench/NOTES.md, "Texture operands").
//
// Textures are kept per (slot, width, height): a training loop repeats the same shapes, so after
// the first step every request is a hit. Reuse needs no fence: WebGPU orders the dispatches of a
// queue, so a slot rewritten by the next op waits for the reads of the previous one. Above the
// byte cap the least recently used textures are destroyed after the next submit (commands
// recorded but not yet submitted may still use them).
import { TextureUsage } from './gpu-constants.js';

export interface ScratchTexture {
  texture: GPUTexture;
  view: GPUTextureView;
}

interface Entry {
  texture: GPUTexture;
  view: GPUTextureView;
  bytes: number;
  used: number;
}

export class ScratchTextures {
  private readonly entries = new Map<string, Entry>();
  private retired: GPUTexture[] = [];
  private clock = 0;
  bytes = 0;

  constructor(
    private readonly device: GPUDevice,
    /** Bytes kept before the least recently used textures retire (tests lower it). */
    public capBytes: number,
  ) {}

  /** Textures held (not counting retired ones awaiting the submit). */
  get count(): number {
    return this.entries.size;
  }

  /** A width x height rgba32float texture for `slot`: sampled, storage texture and copy target. */
  get(slot: string, width: number, height: number): ScratchTexture {
    const key = `${slot}:${width}x${height}`;
    let e = this.entries.get(key);
    if (!e) {
      const texture = this.device.createTexture({
        size: [width, height],
        format: 'rgba32float',
        usage: TextureUsage.TEXTURE_BINDING | TextureUsage.STORAGE_BINDING | TextureUsage.COPY_DST,
        label: `scratch ${key}`,
      });
      e = { texture, view: texture.createView(), bytes: width * height * 16, used: 0 };
      this.entries.set(key, e);
      this.bytes += e.bytes;
    }
    this.evict(key);
    e.used = ++this.clock;
    return e;
  }

  /** Retire least recently used textures (never `keep`) until the total fits the cap. */
  private evict(keep: string): void {
    if (this.bytes <= this.capBytes) return;
    const byAge = [...this.entries.entries()].filter(([k]) => k !== keep).sort((a, b) => a[1].used - b[1].used);
    for (const [k, e] of byAge) {
      if (this.bytes <= this.capBytes) break;
      this.entries.delete(k);
      this.bytes -= e.bytes;
      this.retired.push(e.texture);
    }
  }

  /** After a submit: destroy retired textures (their last uses are queued, so this is safe). */
  afterSubmit(): void {
    for (const t of this.retired) t.destroy();
    this.retired = [];
  }

  destroyAll(): void {
    for (const e of this.entries.values()) e.texture.destroy();
    for (const t of this.retired) t.destroy();
    this.entries.clear();
    this.retired = [];
    this.bytes = 0;
  }
}
