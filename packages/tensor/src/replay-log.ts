// What a captured step recorded: every command the engine was asked for between the start and
// the end of the capture, with the buffers it acquired and released meanwhile. Two captures of
// the same step must agree command by command: the same kernels, parameters and workgroups, the
// same buffers from before the step (weights, state: the same objects), inputs in the same
// places, and the step's own buffers where the other capture has its own. Which own buffer sits
// where may differ (the pool's free buffers differ from call to call, and a step with another
// aliasing of its scratch buffers computes the same): a replay runs one capture's commands on
// that capture's buffers, and every own buffer is written before the step reads it.
import type { CompiledKernel } from './engine.js';
import type { LiveWord } from './kernel.js';
import { getRngState, type RngState } from './rng.js';

export type LoggedCommand =
  | {
      kind: 'dispatch';
      kernel: CompiledKernel;
      buffers: GPUBuffer[];
      views: GPUTextureView[];
      uniforms: Uint32Array;
      workgroups: [number, number, number];
      /** Uniform words that are random generator counters. */
      counters: readonly number[];
      /** Uniform words the host computes at every step. */
      live: readonly LiveWord[];
    }
  | LoggedCopy
  | LoggedTextureCopy
  | { kind: 'upload'; dst: GPUBuffer; data: Uint8Array };

/** A buffer-to-buffer copy (Engine.copy). */
export interface LoggedCopy {
  kind: 'copy';
  src: GPUBuffer;
  srcOffset: number;
  dst: GPUBuffer;
  dstOffset: number;
  bytes: number;
}

/** A buffer-to-texture copy (Engine.copyToTexture). */
export interface LoggedTextureCopy {
  kind: 'copyToTexture';
  src: GPUBuffer;
  srcOffset: number;
  bytesPerRow: number;
  dst: GPUTexture;
  originY: number;
  texelsPerRow: number;
  rows: number;
}

export class CaptureLog {
  readonly commands: LoggedCommand[] = [];
  /** Buffers acquired during the capture (the step's own). */
  readonly acquired = new Set<GPUBuffer>();
  /** Buffers made before the capture that the step released (a step that frees its inputs). */
  readonly releasedOutside = new Set<GPUBuffer>();
  /** Resources destroyed during the capture. */
  readonly destroyed = new Set<object>();
  /** Set when the step did something a replay cannot repeat (a read to the CPU). */
  failure: string | null = null;
  /** Host-side effects to repeat on every replay (see `hostEffect`). */
  readonly effects: (() => void)[] = [];
  /** The default random generator when the step began, and when it ended. */
  readonly rngStart: RngState = getRngState();
  rngEnd: RngState = this.rngStart;
  /**
   * Counter words (command index, word index) that moved with the generator since the capture
   * before (filled by firstDifference): a replay advances them by what the generator moved since.
   */
  readonly advancing: [number, number][] = [];

  constructor(
    /** The buffers of the step's inputs, in argument order. */
    readonly inputs: readonly GPUBuffer[],
  ) {}

  onAcquire(buffer: GPUBuffer): void {
    this.acquired.add(buffer);
  }

  onRelease(buffer: GPUBuffer): void {
    if (!this.acquired.has(buffer)) this.releasedOutside.add(buffer);
  }

  fail(why: string): void {
    this.failure ??= why;
  }

  dispatch(
    kernel: CompiledKernel,
    buffers: readonly GPUBuffer[],
    uniforms: Uint32Array | readonly number[],
    workgroups: readonly [number, number?, number?],
    views: readonly GPUTextureView[],
    counters: readonly number[] = [],
    live: readonly LiveWord[] = [],
  ): void {
    this.commands.push({
      kind: 'dispatch',
      kernel,
      buffers: [...buffers],
      views: [...views],
      uniforms: Uint32Array.from(uniforms),
      workgroups: [workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1],
      counters: [...counters],
      live: [...live],
    });
  }

  /** Buffers bound or copied that the step neither made nor took as inputs (weights, state). */
  externals(): Set<GPUBuffer> {
    const out = new Set<GPUBuffer>();
    const inputs = new Set(this.inputs);
    const note = (b: GPUBuffer) => {
      if (!this.acquired.has(b) && !inputs.has(b)) out.add(b);
    };
    for (const c of this.commands) {
      if (c.kind === 'dispatch') c.buffers.forEach(note);
      else if (c.kind === 'copy') {
        note(c.src);
        note(c.dst);
      } else if (c.kind === 'copyToTexture') note(c.src);
      else note(c.dst);
    }
    return out;
  }
}

/**
 * The first difference between two captures of a step, or null when a replay of `b` does what
 * recording the step again would do: the same commands on the same weights and state.
 */
export function firstDifference(a: CaptureLog, b: CaptureLog): string | null {
  if (a.commands.length !== b.commands.length)
    return `the step recorded ${a.commands.length} commands once and ${b.commands.length} the next time`;
  if (a.inputs.length !== b.inputs.length) return 'the number of inputs changed';
  if (a.rngStart.seed !== b.rngStart.seed || a.rngEnd.seed !== b.rngEnd.seed)
    return 'the random generator moved to a new key during the steps';
  const drawn = a.rngEnd.counter - a.rngStart.counter;
  if (b.rngEnd.counter - b.rngStart.counter !== drawn)
    return `the step drew ${drawn} random numbers once and ${b.rngEnd.counter - b.rngStart.counter} the next time`;
  const moved = b.rngStart.counter - a.rngStart.counter;
  b.advancing.length = 0;
  const logs = [a, b];
  const inputs = logs.map((log) => new Map(log.inputs.map((buf, i) => [buf, `input ${i}`])));
  /** 'input i', 'own', or '' for a buffer from before the step (compared by identity). */
  const name = (side: number, buf: GPUBuffer): string =>
    inputs[side]!.get(buf) ?? (logs[side]!.acquired.has(buf) ? 'own' : '');
  const same = (x: GPUBuffer, y: GPUBuffer): boolean => {
    const nx = name(0, x);
    const ny = name(1, y);
    return nx || ny ? nx === ny : x === y;
  };
  const describe = (
    c: { src: GPUBuffer; dst: GPUBuffer; srcOffset: number; dstOffset: number; bytes: number },
    side: number,
  ) =>
    `${name(side, c.src) || 'weight'}@${c.srcOffset} -> ${name(side, c.dst) || 'weight'}@${c.dstOffset}, ${c.bytes} bytes`;
  for (let i = 0; i < a.commands.length; i++) {
    const x = a.commands[i]!;
    const y = b.commands[i]!;
    const where = `command ${i + 1} of ${a.commands.length}`;
    if (x.kind !== y.kind) return `${where} is a ${x.kind} once and a ${y.kind} the next time`;
    if (x.kind === 'dispatch' && y.kind === 'dispatch') {
      const k = x.kernel.name;
      if (x.kernel !== y.kernel) return `${where} runs ${k} once and ${y.kernel.name} the next time`;
      if (!x.buffers.every((buf, j) => same(buf, y.buffers[j]!)))
        return `${where} (${k}) binds other buffers the next time (a tensor made before the step was replaced, not updated in place)`;
      if (!x.views.every((v, j) => v === y.views[j])) return `${where} (${k}) binds other textures the next time`;
      if (!equalWords(x.counters, y.counters)) return `${where} (${k}) marks other words as random counters`;
      for (const w of y.counters) {
        // A counter from the generator moved as it did; one from a fixed seed stays.
        if (y.uniforms[w] !== x.uniforms[w]) {
          if (y.uniforms[w] !== (x.uniforms[w]! + moved) >>> 0)
            return `${where} (${k}) draws random numbers away from the generator's sequence`;
          b.advancing.push([i, w]);
        }
      }
      const liveX = x.live.map((l) => l.word);
      if (
        !equalWords(
          liveX,
          y.live.map((l) => l.word),
        )
      )
        return `${where} (${k}) computes other words on the host`;
      if (!equalWords(x.uniforms, y.uniforms, [...y.counters, ...liveX]))
        return `${where} (${k}) passes other parameters the next time (a value that changes every step)`;
      if (!x.workgroups.every((w, j) => w === y.workgroups[j])) return `${where} (${k}) has other workgroup counts`;
    } else if (x.kind === 'copy' && y.kind === 'copy') {
      if (
        !same(x.src, y.src) ||
        !same(x.dst, y.dst) ||
        x.srcOffset !== y.srcOffset ||
        x.dstOffset !== y.dstOffset ||
        x.bytes !== y.bytes
      )
        return `${where} copies between other buffers or ranges the next time (${describe(x, 0)} / ${describe(y, 1)})`;
    } else if (x.kind === 'copyToTexture' && y.kind === 'copyToTexture') {
      if (
        !same(x.src, y.src) ||
        x.dst !== y.dst ||
        x.srcOffset !== y.srcOffset ||
        x.bytesPerRow !== y.bytesPerRow ||
        x.originY !== y.originY ||
        x.texelsPerRow !== y.texelsPerRow ||
        x.rows !== y.rows
      )
        return `${where} copies into a texture differently the next time`;
    } else if (x.kind === 'upload' && y.kind === 'upload') {
      if (!same(x.dst, y.dst) || !equalBytes(x.data, y.data))
        return `${where} uploads other data the next time (values computed on the CPU every step)`;
    }
  }
  return null;
}

function equalWords(a: ArrayLike<number>, b: ArrayLike<number>, except: readonly number[] = []): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !except.includes(i)) return false;
  return true;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
