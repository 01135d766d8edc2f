// Step replay: record a training step's dispatches once and submit the same commands again
// every step, without running the step's JavaScript (ONNX Runtime's graph capture and CUDA
// graphs do the same). A step of fixed shapes issues the same dispatches every time: the same
// kernels, the same uniforms, the same weights, and (the pool hands out the oldest free buffer
// of a size) the same pattern of scratch buffers. Recording them costs tens of microseconds of
// JavaScript each (shape checks, autograd, planning, bind groups); replaying costs a few.
//
// `replayable(fn)` runs `fn` as usual for `warmup` calls (optimizer state is made then), then
// captures two calls and compares them (replay-log.ts). When they agree, the step's own buffers
// leave the pool for good, its uniforms go into one buffer written once, its uploads become
// copies from one constant buffer, and later calls copy their inputs into the captured input
// buffers, replay the commands and copy the outputs into new tensors. Random counters and values
// the host computes every step (marked in their uniforms) are rewritten before each replay. When
// the captures differ (another value every call, a state tensor replaced instead of updated in
// place, a read back to the CPU), `fn` keeps running as usual and `status.reason` says why.
//
// What a replay cannot see: host-side effects of `fn` (counters, JavaScript state) do not happen
// unless `fn` registers them with `hostEffect`, and a value outside the tensors that the step
// depends on (a learning rate the caller changes) must be part of `run`'s `key`.
import { BufferUsage } from './gpu-constants.js';
import { getEngine } from './device.js';
import { type CompiledKernel, type Engine, UNIFORM_WORDS } from './engine.js';
import { TensorError } from './errors.js';
import { CaptureLog, firstDifference, type LoggedCopy, type LoggedTextureCopy } from './replay-log.js';
import { getRngState, type RngState, setRngState } from './rng.js';
import { Storage } from './storage.js';
import { Tensor } from './tensor.js';

const SLOT_BYTES = 256; // a dynamic uniform offset's alignment
const WORDS_PER_SLOT = SLOT_BYTES / 4;
const ESCAPED =
  'the step leaves a tensor alive that it made and did not return (state replaced instead of updated in place)';

export interface ReplayStatus {
  /** 'recording': `fn` runs as usual (warming up or capturing); 'off': no more captures under this key. */
  state: 'recording' | 'replaying' | 'off';
  /** Why the last capture or replay could not be used, or null. */
  reason: string | null;
  captures: number;
  replays: number;
}

export interface ReplayOptions {
  /** Calls run as usual before the first capture (default 1: optimizers make their state then). */
  warmup?: number;
  /** Captures to try under one key before giving up on it (default 4). */
  maxCaptures?: number;
}

/** Run `fn` now and again on every replay of the step being captured (a host-side counter). */
export function hostEffect(fn: () => void): void {
  fn();
  getEngine().capture?.effects.push(fn);
}

/** A step (`fn` from input tensors to output tensors) that replays its dispatches once they repeat. */
export function replayable(fn: (...inputs: Tensor[]) => Tensor[], options: ReplayOptions = {}): ReplayableStep {
  return new ReplayableStep(fn, options);
}

export class ReplayableStep {
  private warmupLeft: number;
  private readonly maxCaptures: number;
  private key: string | null = null;
  /** Captures under the current key. */
  private attempts = 0;
  private previous: CaptureLog | null = null;
  private replay: Replay | null = null;
  private readonly st: ReplayStatus = { state: 'recording', reason: null, captures: 0, replays: 0 };

  constructor(
    private readonly fn: (...inputs: Tensor[]) => Tensor[],
    options: ReplayOptions,
  ) {
    this.warmupLeft = options.warmup ?? 1;
    this.maxCaptures = options.maxCaptures ?? 4;
  }

  get status(): Readonly<ReplayStatus> {
    return { ...this.st, state: this.replay ? 'replaying' : this.st.state };
  }

  /**
   * One step. `key` names everything outside the tensors the step depends on (learning rates,
   * mode flags): a new key drops the replay and captures again.
   */
  run(inputs: Tensor[], key = ''): Tensor[] {
    const engine = getEngine();
    const fullKey = `${key}|${inputs.map((t) => `${t.dtype}[${t.shape.join(',')}]`).join(';')}`;
    if (fullKey !== this.key || (this.replay && this.replay.engine !== engine)) {
      this.drop();
      this.key = fullKey;
      this.attempts = 0;
      if (this.st.state === 'off') this.st.state = 'recording';
    }
    if (this.replay && !engine.profiling) {
      const why = this.replay.problem();
      if (why === null) {
        this.st.replays++;
        return this.replay.run(inputs);
      }
      this.st.reason = why;
      this.drop();
    }
    if (this.st.state === 'off' || engine.profiling || engine.capture || this.warmupLeft > 0) {
      if (this.warmupLeft > 0) this.warmupLeft--;
      return this.fn(...inputs);
    }
    return this.capture(engine, inputs);
  }

  /** Give the replay's buffers back to the pool. */
  dispose(): void {
    this.drop();
    this.key = null;
  }

  private drop(): void {
    this.replay?.dispose();
    this.replay = null;
    this.previous = null;
  }

  private capture(engine: Engine, inputs: Tensor[]): Tensor[] {
    const log = new CaptureLog(inputs.map((t) => t.buffer));
    engine.capture = log;
    let raw: Tensor[];
    try {
      raw = this.fn(...inputs);
    } finally {
      engine.capture = null;
    }
    log.rngEnd = getRngState();
    this.st.captures++;
    this.attempts++;
    const outputs = raw.map((t) => ({ buffer: t.buffer, bytes: t.storage.byteLength, shape: t.shape, dtype: t.dtype }));
    const why = log.failure ?? this.compare(log);
    let replay: Replay | string | null = null;
    if (why === null) {
      // Claimed before the outputs are copied: the copies must not take the step's own buffers.
      replay = Replay.build(engine, log, inputs, outputs);
      this.previous = null;
    } else if (why !== 'first') this.giveUp(why);
    // The outputs leave in new tensors, so that every buffer the step made goes back now.
    const result = outputs.map((o) => copyOut(engine, o.buffer, o.bytes, o.shape, o.dtype));
    for (const t of new Set(raw)) t.dispose();
    if (typeof replay === 'string') this.giveUp(replay);
    else if (replay) {
      const escaped = replay.claimOutputs(log);
      if (escaped === null) {
        this.replay = replay;
        this.st.reason = null;
      } else {
        replay.dispose();
        this.giveUp(escaped);
      }
    }
    return result;
  }

  /** 'first' for the first capture, else null when `log` repeats the previous one, else why not. */
  private compare(log: CaptureLog): string | null {
    const previous = this.previous;
    this.previous = log;
    if (log.releasedOutside.size)
      return `the step frees ${log.releasedOutside.size} tensor(s) made before it (state replaced instead of updated in place)`;
    if (!previous) return 'first';
    return firstDifference(previous, log);
  }

  private giveUp(why: string): void {
    this.st.reason = why;
    if (this.attempts >= this.maxCaptures) this.st.state = 'off';
  }
}

/** A captured step ready to replay: its own buffers, uniforms, constants and bind groups. */
class Replay {
  private valid: string | null = null;
  private readonly resources = new Set<object>();

  private constructor(
    readonly engine: Engine,
    private readonly steps: ReplayStep[],
    private readonly offsets: Uint32Array,
    private readonly inputs: { buffer: GPUBuffer; bytes: number }[],
    private readonly outputs: { buffer: GPUBuffer; bytes: number; shape: readonly number[]; dtype: Tensor['dtype'] }[],
    private readonly externals: GPUBuffer[],
    private readonly epochs: number[],
    private readonly claimed: GPUBuffer[],
    private readonly owned: GPUBuffer[],
    private readonly effects: (() => void)[],
    /** Counter words to advance with the generator: uniform slot, word, value at the capture. */
    private readonly counters: { slot: number; word: number; base: number }[],
    /** Words the host computes at every step: uniform slot, word, how. */
    private readonly live: { slot: number; word: number; value: () => number }[],
    /** The uniforms as written, and the slots that change every step (counters and live words). */
    private readonly uniformWords: Uint32Array,
    private readonly changingSlots: number[],
    private readonly uniformBuffer: GPUBuffer,
    private readonly rngStart: RngState,
    private readonly drawn: number,
  ) {}

  /** A replay of `log`, or why there is none. */
  static build(
    engine: Engine,
    log: CaptureLog,
    inputs: Tensor[],
    outputs: { buffer: GPUBuffer; bytes: number; shape: readonly number[]; dtype: Tensor['dtype'] }[],
  ): Replay | string {
    const pool = engine.storagePool;
    const externals = [...log.externals()];
    const epochs = externals.map((b) => pool.liveEpoch(b));
    if (epochs.some((e) => e === 0)) return 'the step reads a tensor that is freed by the time it ends';
    if (log.destroyed.size)
      return "the pool destroyed buffers the step used (the step's working set is over the pool's cap)";
    const claimed: GPUBuffer[] = [];
    const outputBuffers = new Set(outputs.map((o) => o.buffer));
    for (const b of log.acquired) {
      if (outputBuffers.has(b)) continue; // claimed once the caller has its copies
      if (pool.claim(b)) claimed.push(b);
      else {
        for (const c of claimed) pool.unclaim(c, engine.hasPendingCommands);
        return ESCAPED;
      }
    }
    const device = engine.device;
    const owned: GPUBuffer[] = [];
    // The inputs' buffers belong to the caller: the replay copies each call's inputs into its own.
    const inputMap = new Map<GPUBuffer, GPUBuffer>();
    const inputSlots = inputs.map((t, i) => {
      const bytes = t.storage.byteLength;
      const own = device.createBuffer({
        size: Math.max(4, align4(bytes)),
        usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
        label: `replay input ${i}`,
      });
      owned.push(own);
      inputMap.set(log.inputs[i]!, own);
      return { buffer: own, bytes };
    });
    const sub = (b: GPUBuffer) => inputMap.get(b) ?? b;
    // Uploads become copies from one constant buffer, in their place among the commands.
    let constantBytes = 0;
    for (const c of log.commands) if (c.kind === 'upload') constantBytes += align4(c.data.byteLength);
    const constants =
      constantBytes > 0
        ? device.createBuffer({
            size: constantBytes,
            usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
            label: 'replay constants',
          })
        : null;
    if (constants) owned.push(constants);
    const dispatches = log.commands.filter((c) => c.kind === 'dispatch').length;
    const uniformWords = new Uint32Array(Math.max(1, dispatches) * (SLOT_BYTES / 4));
    const uniformBuffer = device.createBuffer({
      size: uniformWords.byteLength,
      usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST,
      label: 'replay uniforms',
    });
    owned.push(uniformBuffer);
    const offsets = new Uint32Array(Math.max(1, dispatches));
    const groups = new Map<string, GPUBindGroup>();
    const ids = new Map<object, number>();
    const id = (o: object) => {
      let n = ids.get(o);
      if (n === undefined) ids.set(o, (n = ids.size + 1));
      return n;
    };
    const steps: ReplayStep[] = [];
    let slot = 0;
    let constantAt = 0;
    const counters: { slot: number; word: number; base: number }[] = [];
    const live: { slot: number; word: number; value: () => number }[] = [];
    const advancing = new Map<number, number[]>();
    for (const [command, word] of log.advancing) advancing.set(command, [...(advancing.get(command) ?? []), word]);
    for (const [index, c] of log.commands.entries()) {
      if (c.kind === 'dispatch') {
        for (const word of advancing.get(index) ?? []) counters.push({ slot, word, base: c.uniforms[word]! });
        for (const l of c.live) live.push({ slot, word: l.word, value: l.value });
        const buffers = c.buffers.map(sub);
        const group = bindGroup(device, c.kernel, buffers, c.views, uniformBuffer, groups, id);
        uniformWords.set(c.uniforms, (slot * SLOT_BYTES) / 4);
        offsets[slot] = slot * SLOT_BYTES;
        steps.push({
          kind: 'dispatch',
          pipeline: c.kernel.pipeline,
          group,
          slot,
          x: c.workgroups[0],
          y: c.workgroups[1],
          z: c.workgroups[2],
        });
        slot++;
      } else if (c.kind === 'copy') {
        steps.push({ ...c, src: sub(c.src), dst: sub(c.dst) });
      } else if (c.kind === 'copyToTexture') {
        steps.push({ ...c, src: sub(c.src) });
      } else {
        const bytes = align4(c.data.byteLength);
        const padded = new Uint8Array(bytes);
        padded.set(c.data);
        device.queue.writeBuffer(constants!, constantAt, padded);
        steps.push({ kind: 'copy', src: constants!, srcOffset: constantAt, dst: sub(c.dst), dstOffset: 0, bytes });
        constantAt += bytes;
      }
    }
    device.queue.writeBuffer(uniformBuffer, 0, uniformWords);
    const replay = new Replay(
      engine,
      steps,
      offsets,
      inputSlots,
      outputs.map((o) => ({ ...o, buffer: sub(o.buffer) })),
      externals,
      epochs,
      claimed,
      owned,
      [...log.effects],
      counters,
      live,
      uniformWords,
      [...new Set([...counters, ...live].map((c) => c.slot))],
      uniformBuffer,
      log.rngStart,
      log.rngEnd.counter - log.rngStart.counter,
    );
    for (const b of externals) replay.resources.add(b);
    for (const c of log.commands) {
      if (c.kind === 'dispatch') for (const v of c.views) replay.resources.add(v);
      if (c.kind === 'copyToTexture') replay.resources.add(c.dst);
    }
    engine.replays.add(replay);
    return replay;
  }

  /** Take the step's output buffers (released by now) out of the pool; else why not. */
  claimOutputs(log: CaptureLog): string | null {
    const pool = this.engine.storagePool;
    for (const o of new Set(this.outputs.map((x) => x.buffer))) {
      if (!log.acquired.has(o)) continue; // an output that is a view of an input or a weight
      if (!pool.claim(o)) return ESCAPED;
      this.claimed.push(o);
    }
    return null;
  }

  /** Null while the replay may run: every weight and state tensor it binds is the one captured. */
  problem(): string | null {
    if (this.valid !== null) return this.valid;
    if (this.drawn > 0) {
      const rng = getRngState();
      if (rng.seed !== this.rngStart.seed || rng.counter + this.drawn > 0xffffffff)
        return 'the random generator moved to a new key since the capture';
    }
    const pool = this.engine.storagePool;
    for (let i = 0; i < this.externals.length; i++)
      if (pool.liveEpoch(this.externals[i]!) !== this.epochs[i])
        return 'a weight or state tensor the step reads was freed or replaced since the capture';
    return null;
  }

  onDestroyed(resource: object): void {
    if (this.resources.has(resource)) this.valid = 'a buffer or texture the step binds was destroyed';
  }

  run(inputs: Tensor[]): Tensor[] {
    const e = this.engine;
    if (inputs.length !== this.inputs.length) throw new TensorError('step replay: the number of inputs changed');
    if (inputs.some((t, i) => t.storage.byteLength !== this.inputs[i]!.bytes))
      throw new TensorError('step replay: an input changed size');
    for (const fx of this.effects) fx(); // first: live words read the host state they update
    this.updateUniforms();
    for (let i = 0; i < inputs.length; i++) {
      const slot = this.inputs[i]!;
      if (slot.bytes > 0) e.copy(inputs[i]!.buffer, 0, slot.buffer, 0, align4(slot.bytes));
    }
    const offsets = this.offsets;
    for (const s of this.steps) {
      if (s.kind === 'dispatch') e.dispatchPrepared(s.pipeline, s.group, offsets, s.slot, s.x, s.y, s.z);
      else if (s.kind === 'copy') e.copy(s.src, s.srcOffset, s.dst, s.dstOffset, s.bytes);
      else e.copyToTexture(s.src, s.srcOffset, s.bytesPerRow, s.dst, s.originY, s.texelsPerRow, s.rows);
    }
    const outputs = this.outputs.map((o) => copyOut(e, o.buffer, o.bytes, o.shape, o.dtype));
    // One submit for the step: the device starts now, and the recording was too short for
    // submits in the middle to let it start much earlier (each costs host time on the way).
    e.flush();
    return outputs;
  }

  /**
   * The uniforms that change every step: random counters where recording the step now would draw
   * (moved by what the generator moved since the capture, and the generator moved past them), and
   * the words the host computes.
   */
  private updateUniforms(): void {
    if (this.drawn > 0) {
      const rng = getRngState();
      const shift = rng.counter - this.rngStart.counter;
      for (const c of this.counters) this.uniformWords[c.slot * WORDS_PER_SLOT + c.word] = (c.base + shift) >>> 0;
      setRngState({ seed: rng.seed, counter: rng.counter + this.drawn });
    }
    if (!this.changingSlots.length) return;
    const floats = new Float32Array(this.uniformWords.buffer);
    for (const l of this.live) floats[l.slot * WORDS_PER_SLOT + l.word] = l.value();
    // The previous replay's commands read the old words: submit them before the writes.
    if (this.engine.hasPendingCommands) this.engine.flush();
    const queue = this.engine.device.queue;
    for (const slot of this.changingSlots)
      queue.writeBuffer(
        this.uniformBuffer,
        slot * SLOT_BYTES,
        this.uniformWords,
        slot * WORDS_PER_SLOT,
        WORDS_PER_SLOT,
      );
  }

  dispose(): void {
    this.engine.replays.delete(this);
    const pending = this.engine.hasPendingCommands;
    for (const b of this.claimed) this.engine.storagePool.unclaim(b, pending);
    this.engine.flush(); // buffers used by recorded commands must be submitted before destroy
    for (const b of this.owned) b.destroy();
  }
}

/** A replayed command: a dispatch with its prepared bind group and uniform slot, or a copy. */
type ReplayStep =
  | {
      kind: 'dispatch';
      pipeline: GPUComputePipeline;
      group: GPUBindGroup;
      slot: number;
      x: number;
      y: number;
      z: number;
    }
  | LoggedCopy
  | LoggedTextureCopy;

function bindGroup(
  device: GPUDevice,
  kernel: CompiledKernel,
  buffers: GPUBuffer[],
  views: GPUTextureView[],
  uniforms: GPUBuffer,
  cache: Map<string, GPUBindGroup>,
  id: (o: object) => number,
): GPUBindGroup {
  let key = `${kernel.layoutId}`;
  for (const b of buffers) key += `,${id(b)}`;
  for (const v of views) key += `,${id(v)}`;
  let group = cache.get(key);
  if (!group) {
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: uniforms, offset: 0, size: UNIFORM_WORDS * 4 } },
    ];
    buffers.forEach((b, i) => entries.push({ binding: 1 + i, resource: { buffer: b } }));
    views.forEach((v, i) => entries.push({ binding: 1 + buffers.length + i, resource: v }));
    group = device.createBindGroup({ layout: kernel.layout, entries, label: `replay ${kernel.name}` });
    cache.set(key, group);
  }
  return group;
}

/** A new tensor holding a copy of `bytes` of `buffer`. */
function copyOut(
  engine: Engine,
  buffer: GPUBuffer,
  bytes: number,
  shape: readonly number[],
  dtype: Tensor['dtype'],
): Tensor {
  const out = engine.allocate(Math.max(4, bytes), 'A replayed step output');
  if (bytes > 0) engine.copy(buffer, 0, out, 0, align4(bytes));
  const storage = new Storage(engine, out, bytes);
  storage.written();
  return new Tensor(storage, shape, dtype);
}

function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}
