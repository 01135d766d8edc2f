// The training loop. Per step: upload the batch, forward, softmax cross-entropy, backward, SGD
// step, drop gradients; nothing is read back except the loss every `lossEvery` steps. Epoch sums
// (loss x images, correct predictions) accumulate on the GPU in kept one-element tensors and are
// read once at epoch end. After each epoch: validation in eval mode without autograd, the
// scheduler step, metrics.jsonl, and the `last` (and, on a new best validation accuracy, `best`)
// checkpoint. Everything a resumed run needs is in that checkpoint (see checkpoint.ts), so
// 4 epochs equal 2 + resume 2 bit for bit. Browser-safe: checkpoints and metrics.jsonl go through
// a RunStore and stop requests come from StopSources, so Node (train-node.ts: a run directory,
// SIGINT/SIGTERM) and a web page (memory and browser storage, a Stop button) run this same loop.
import * as T from '@spine/tensor';
import {
  GradScaler,
  ReduceLROnPlateau,
  softmaxCrossEntropy,
  type CrossEntropyOptions,
  type LRScheduler,
  type Module,
  type SGD,
} from '@spine/nn';
import type { Batch, LoaderState } from '../data/loader.js';
import {
  applyCheckpointTensors,
  type CheckpointMeta,
  type CheckpointName,
  type PartialEpoch,
  type RunStore,
} from './checkpoint-format.js';
import { TrainingError } from './errors.js';
import { mixedPrecisionStep } from './mixed-step.js';
import { correctCount, trainingStep, type TrainingStep } from './training-step.js';
import type { EpochMetrics } from './history.js';
import { StopRequest, type StopSource } from './interrupt.js';
import type { StopSignal } from './interrupt-signals.js';

/**
 * What the trainer needs of a loader: @spine/models' DataLoader (worker threads over files) or a
 * page's loader over films in memory. Batches depend only on (seed, epoch, index).
 */
export interface BatchSource {
  readonly batchesPerEpoch: number;
  epoch(): AsyncGenerator<Batch>;
  state(): LoaderState;
  restore(state: LoaderState): void;
}

export type Scheduler = LRScheduler | ReduceLROnPlateau;

export interface BatchProgress {
  /** 1-based epoch and batch (batches done in this epoch). */
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  step: number;
  /** The batch's mean loss, present only on steps where it was read back. */
  loss?: number;
  imagesPerSecond: number;
  /** Seconds left in this epoch's training part, from the rate so far. */
  etaSeconds: number;
}

export interface TrainHooks {
  onEpochStart?(info: { epoch: number; epochs: number; batches: number; lr: number; resumedAtBatch: number }): void;
  onBatch?(progress: BatchProgress): void;
  onEpochEnd?(metrics: EpochMetrics, info: { isBest: boolean }): void;
  onCheckpoint?(info: { names: CheckpointName[]; epoch: number; batch: number }): void;
  /** A stop was requested (Ctrl-C, SIGTERM, abort): the current step finishes, then `last` is saved. */
  onStopRequested?(reason: string): void;
}

/** What train() (Node, a run directory) and trainInStore() (any RunStore) share. */
export interface TrainCommonOptions {
  model: Module;
  optimizer: SGD;
  /** Stepped once per epoch; ReduceLROnPlateau gets the validation loss (training loss without validation). */
  scheduler?: Scheduler;
  trainLoader: BatchSource;
  valLoader?: BatchSource;
  /** Total epochs of the run (a resumed run continues up to this number). */
  epochs: number;
  /** Read the loss back every this many steps (default 10); the epoch's sums are always read at its end. */
  lossEvery?: number;
  /**
   * Replay each training step's recorded dispatches once two steps have recorded the same ones
   * (`T.replayable`): the same results bit for bit, with a fraction of the step's JavaScript.
   * Default true; steps that cannot be replayed (random numbers, an optimizer whose parameters
   * change every step) keep recording.
   */
  replaySteps?: boolean;
  /**
   * 'mixed': the forward pass under autocast (Conv2d and Linear with f16 operands and f32 sums;
   * batch norm, the loss, parameters and optimizer state f32) with dynamic loss scaling, steps
   * skipped on overflow (mixed-step.ts); needs the device feature 'shader-f16'. Default 'f32'.
   */
  precision?: 'f32' | 'mixed';
  /** Per-class loss weights [female, male], as CrossEntropyLoss(weight=...). */
  classWeights?: readonly number[];
  labelSmoothing?: number;
  /** Continue from the `last` checkpoint (an error if there is none). */
  resume?: boolean;
  /** Resume even when the config hash differs. */
  allowConfigChange?: boolean;
  hooks?: TrainHooks;
  abortSignal?: AbortSignal;
}

export interface TrainOptions extends TrainCommonOptions {
  /** Run directory: metrics.jsonl and checkpoints/ go here. */
  runDir: string;
  /**
   * What defines the run, hashed into every checkpoint; resuming with a different hash is refused.
   * Leave out what may change on resume (the number of epochs).
   */
  config?: unknown;
  /** Signals that request a graceful stop while training; default SIGINT and SIGTERM; [] for none. */
  stopSignals?: readonly StopSignal[];
}

export interface StoreTrainOptions extends TrainCommonOptions {
  store: RunStore;
  /** The run's config hash (stableKey of what defines the run), recorded in every checkpoint. */
  configHash: string;
  /** Where stop requests come from besides abortSignal. */
  stopSources?: readonly StopSource[];
}

export interface TrainResult {
  status: 'completed' | 'interrupted';
  /** 'SIGINT', 'SIGTERM' or 'aborted' when interrupted. */
  stopReason?: string;
  /** Completed epochs (an interrupted epoch is not counted). */
  epochsCompleted: number;
  step: number;
  history: EpochMetrics[];
  best: CheckpointMeta['best'];
  resumedFrom?: { epoch: number; batch: number };
  checkpointDir: string;
  /** Steps replayed, steps captured, and why the last capture could not be replayed (or null). */
  stepReplay: { replays: number; captures: number; reason: string | null };
  /** Precision 'mixed': the loss scale at the end, and the steps skipped for an overflow since this process started or resumed the run. */
  lossScale?: { scale: number; skippedSteps: number };
}

interface RunState {
  epoch: number;
  batch: number;
  step: number;
  history: EpochMetrics[];
  best: CheckpointMeta['best'];
  partial: PartialEpoch | null;
  /** The loss scaler of a mixed-precision run (its state is checkpointed), else null. */
  scaler: GradScaler | null;
}

/**
 * Run (or resume) training into a store; resolves when done or stopped, rejects with
 * TrainingError on a non-finite loss.
 */
export async function trainInStore(o: StoreTrainOptions): Promise<TrainResult> {
  const lossEvery = o.lossEvery ?? 10;
  if (!Number.isInteger(o.epochs) || o.epochs < 1)
    throw new RangeError(`epochs must be a positive integer, got ${o.epochs}`);
  if (!Number.isInteger(lossEvery) || lossEvery < 1)
    throw new RangeError(`lossEvery must be a positive integer, got ${lossEvery}`);
  const configHash = o.configHash;
  await o.store.open();
  const st: RunState = {
    epoch: 0,
    batch: 0,
    step: 0,
    history: [],
    best: null,
    partial: null,
    scaler: o.precision === 'mixed' ? new GradScaler() : null,
  };
  let resumedFrom: TrainResult['resumedFrom'];
  if (o.resume) {
    resumedFrom = await restore(o, configHash, st);
  } else if (await o.store.readMeta('last')) {
    throw new TrainingError(
      'run-exists',
      `${o.store.checkpoints} already holds a checkpoint; resume that run or choose another run directory`,
    );
  }
  const hooks = o.hooks ?? {};
  const stop = new StopRequest(o.stopSources ?? [], o.abortSignal, (r) => hooks.onStopRequested?.(r));
  const weight = o.classWeights ? T.tensor(Float32Array.from(o.classWeights)).keep() : undefined;
  const ce: CrossEntropyOptions = {
    ...(weight ? { weight } : {}),
    ...(o.labelSmoothing ? { labelSmoothing: o.labelSmoothing } : {}),
  };
  const result = async (status: TrainResult['status']): Promise<TrainResult> => {
    await st.scaler?.syncFromDevice();
    return {
      status,
      ...(status === 'interrupted' && stop.requested ? { stopReason: stop.requested } : {}),
      epochsCompleted: st.epoch,
      step: st.step,
      history: st.history,
      best: st.best,
      ...(resumedFrom ? { resumedFrom } : {}),
      checkpointDir: o.store.checkpoints,
      stepReplay: step.status(),
      ...(st.scaler ? { lossScale: { scale: st.scaler.getScale(), skippedSteps: st.scaler.skippedSteps } } : {}),
    };
  };
  const step =
    o.precision === 'mixed'
      ? mixedPrecisionStep(o.model, o.optimizer, ce, st.scaler!, o.replaySteps ?? true)
      : trainingStep(o.model, o.optimizer, ce, o.replaySteps ?? true);
  try {
    while (st.epoch < o.epochs) {
      if (stop.requested) return await result('interrupted');
      const finished = await runEpoch(o, st, ce, step, lossEvery, stop, configHash);
      if (!finished) return await result('interrupted');
    }
    return await result('completed');
  } finally {
    step.dispose();
    st.scaler?.dispose();
    stop.dispose();
    weight?.dispose();
  }
}

async function restore(
  o: StoreTrainOptions,
  configHash: string,
  st: RunState,
): Promise<{ epoch: number; batch: number }> {
  const ckpt = await o.store.read('last');
  if (!ckpt)
    throw new TrainingError(
      'no-checkpoint',
      `nothing to resume: ${o.store.checkpointFile('last.json')} does not exist`,
    );
  const m = ckpt.meta;
  if (m.configHash !== configHash && !o.allowConfigChange) {
    throw new TrainingError(
      'config-mismatch',
      `the checkpoint in ${o.store.checkpoints} was written with config ${m.configHash}, this run has ${configHash}; resume with the same settings (or allow the change explicitly)`,
    );
  }
  applyCheckpointTensors(ckpt, o.model, o.optimizer);
  if (o.scheduler && m.scheduler) o.scheduler.loadStateDict(m.scheduler);
  T.setRngState(m.rng);
  if (st.scaler && m.gradScaler)
    st.scaler.loadStateDict({ scale: m.gradScaler.scale, _growth_tracker: m.gradScaler.growthTracker });
  o.trainLoader.restore(m.loaders.train);
  if (o.valLoader && m.loaders.val) o.valLoader.restore(m.loaders.val);
  Object.assign(st, {
    epoch: m.epoch,
    batch: m.batch,
    step: m.step,
    history: [...m.history],
    best: m.best,
    partial: m.partial,
  });
  // metrics.jsonl may list epochs run after this checkpoint (a crash between the two writes).
  await o.store.writeMetrics(st.history);
  return { epoch: m.epoch, batch: m.batch };
}

/** One epoch (or the rest of one); false when stopped inside it (after saving `last`). */
async function runEpoch(
  o: StoreTrainOptions,
  st: RunState,
  ce: CrossEntropyOptions,
  step: TrainingStep,
  lossEvery: number,
  stop: StopRequest,
  configHash: string,
): Promise<boolean> {
  const { model, optimizer, trainLoader, hooks = {} } = o;
  const batches = trainLoader.batchesPerEpoch;
  const epochNo = st.epoch + 1;
  const lrs = optimizer.paramGroups.map((g) => g.lr);
  const startedAt = performance.now();
  const before = st.partial ?? { lossSum: 0, correct: 0, images: 0, seconds: 0 };
  hooks.onEpochStart?.({ epoch: epochNo, epochs: o.epochs, batches, lr: lrs[0]!, resumedAtBatch: st.batch });
  model.train();
  const sums = new Accumulators(before.lossSum, before.correct);
  let imagesNow = 0;
  let batchesNow = 0;
  let stopped = false;
  try {
    for await (const b of trainLoader.epoch()) {
      const n = b.labels.length;
      st.step++;
      const x = T.tensor(b.images, [...b.shape]);
      const y = T.tensor(b.labels);
      const [loss, hits] = await step.run(x, y);
      sums.add(loss, hits, n);
      hits.dispose();
      x.dispose();
      y.dispose();
      imagesNow += n;
      batchesNow++;
      st.batch = b.index + 1;
      let value: number | undefined;
      if (st.step % lossEvery === 0) value = await loss.item();
      loss.dispose();
      if (value !== undefined && !Number.isFinite(value)) {
        throw await nonFinite(
          o,
          `training loss is ${value} at epoch ${epochNo}, batch ${st.batch} of ${batches} (step ${st.step})`,
        );
      }
      const seconds = (performance.now() - startedAt) / 1000;
      const rate = imagesNow / Math.max(seconds, 1e-9);
      hooks.onBatch?.({
        epoch: epochNo,
        epochs: o.epochs,
        batch: st.batch,
        batches,
        step: st.step,
        ...(value !== undefined ? { loss: value } : {}),
        imagesPerSecond: rate,
        etaSeconds: ((batches - st.batch) * seconds) / batchesNow,
      });
      // Stopping after the epoch's last batch would save a checkpoint the epoch end saves anyway.
      if (stop.requested && st.batch < batches) {
        stopped = true;
        break;
      }
    }
    const [lossSum, correct] = await sums.read();
    const images = before.images + imagesNow;
    const trainSeconds = before.seconds + (performance.now() - startedAt) / 1000;
    if (!Number.isFinite(lossSum))
      throw await nonFinite(
        o,
        `training loss is not finite (${lossSum}) in epoch ${epochNo} (read at batch ${st.batch} of ${batches}, step ${st.step})`,
      );
    if (stopped) {
      st.partial = { lossSum, correct, images, seconds: trainSeconds };
      await save(o, st, ['last'], configHash);
      return false;
    }
    // The step's replay holds its working set out of the pool: give it back so validation and the
    // epoch's checkpoints fit where they fit without replay (the next epoch captures again).
    step.release?.();
    const val = o.valLoader ? await validate(model, o.valLoader, ce, o.replaySteps ?? true) : undefined;
    if (val && !Number.isFinite(val.loss))
      throw await nonFinite(o, `validation loss is not finite (${val.loss}) after epoch ${epochNo} (step ${st.step})`);
    const metrics: EpochMetrics = {
      epoch: epochNo,
      lr: lrs[0]!,
      lrs,
      trainLoss: lossSum / images,
      trainAccuracy: correct / images,
      ...(val ? { valLoss: val.loss, valAccuracy: val.accuracy, valImages: val.images } : {}),
      trainImages: images,
      imagesPerSecond: images / Math.max(trainSeconds, 1e-9),
      seconds: trainSeconds + (val?.seconds ?? 0),
    };
    const score = val ? val.accuracy : metrics.trainAccuracy;
    const isBest = st.best === null || score > st.best.value;
    if (isBest) st.best = { metric: val ? 'valAccuracy' : 'trainAccuracy', value: score, epoch: epochNo };
    if (o.scheduler instanceof ReduceLROnPlateau) o.scheduler.step(val?.loss ?? metrics.trainLoss);
    else o.scheduler?.step();
    st.history.push(metrics);
    st.epoch = epochNo;
    st.batch = 0;
    st.partial = null;
    await o.store.writeMetrics(st.history);
    await save(o, st, isBest ? ['last', 'best'] : ['last'], configHash);
    hooks.onEpochEnd?.(metrics, { isBest });
    return true;
  } finally {
    sums.dispose();
  }
}

/** Sum of loss x images and of correct predictions, kept on the GPU between readbacks. */
class Accumulators {
  private loss: T.Tensor;
  private correct: T.Tensor;
  constructor(loss0: number, correct0: number) {
    this.loss = T.tensor([loss0]).keep();
    this.correct = T.tensor([correct0]).keep();
  }
  add(meanLoss: T.Tensor, hits: T.Tensor, n: number): void {
    const [loss, correct] = T.noGrad(() =>
      T.scope(() => [T.add(this.loss, T.mul(T.detach(meanLoss), n)).keep(), T.add(this.correct, hits).keep()]),
    );
    this.dispose();
    this.loss = loss!;
    this.correct = correct!;
  }
  async read(): Promise<[number, number]> {
    return [(await this.loss.data())[0]!, (await this.correct.data())[0]!];
  }
  dispose(): void {
    this.loss.dispose();
    this.correct.dispose();
  }
}

/** Validation loss (same criterion as training) and accuracy, in eval mode without autograd. */
async function validate(
  model: Module,
  loader: BatchSource,
  ce: CrossEntropyOptions,
  replay: boolean,
): Promise<{ loss: number; accuracy: number; images: number; seconds: number }> {
  const t0 = performance.now();
  model.eval();
  const sums = new Accumulators(0, 0);
  const record = (x: T.Tensor, y: T.Tensor) =>
    T.noGrad(() =>
      T.scope(() => {
        const logits = model.forward(x);
        return [softmaxCrossEntropy(logits, y, ce), correctCount(logits, y)];
      }),
    );
  // Full batches replay once two have recorded the same dispatches (T.replayable).
  const step = replay ? T.replayable((x, y) => record(x!, y!), { warmup: 0 }) : null;
  let images = 0;
  try {
    for await (const b of loader.epoch()) {
      const x = T.tensor(b.images, [...b.shape]);
      const y = T.tensor(b.labels);
      const [loss, hits] = step ? step.run([x, y]) : record(x, y);
      sums.add(loss!, hits!, b.labels.length);
      for (const t of [x, y, loss!, hits!]) t.dispose();
      images += b.labels.length;
    }
    const [lossSum, correct] = await sums.read();
    return { loss: lossSum / images, accuracy: correct / images, images, seconds: (performance.now() - t0) / 1000 };
  } finally {
    step?.dispose();
    sums.dispose();
    model.train();
  }
}

async function save(o: StoreTrainOptions, st: RunState, names: CheckpointName[], configHash: string): Promise<void> {
  // The mixed step's scaler keeps its scale on the device.
  await st.scaler?.syncFromDevice();
  await o.store.save(
    {
      model: o.model,
      optimizer: o.optimizer,
      epoch: st.epoch,
      batch: st.batch,
      step: st.step,
      scheduler: o.scheduler ? o.scheduler.stateDict() : null,
      rng: T.getRngState(),
      loaders: { train: o.trainLoader.state(), val: o.valLoader ? o.valLoader.state() : null },
      best: st.best,
      partial: st.partial,
      history: st.history,
      configHash,
      ...(st.scaler
        ? { gradScaler: { scale: st.scaler.getScale(), growthTracker: st.scaler.stateDict()._growth_tracker } }
        : {}),
    },
    names,
  );
  o.hooks?.onCheckpoint?.({ names, epoch: st.epoch, batch: st.batch });
}

/** The error for a non-finite loss; nothing is saved, so `last` stays the last good state. */
async function nonFinite(o: StoreTrainOptions, what: string): Promise<TrainingError> {
  const last = await o.store.readMeta('last').catch(() => undefined);
  const kept = last
    ? `the last good checkpoint is kept: ${o.store.checkpointFile('last.json')} (epoch ${last.epoch}${last.batch ? `, batch ${last.batch}` : ''})`
    : 'no checkpoint had been written yet';
  const lr = o.optimizer.paramGroups.map((g) => g.lr).join(', ');
  return new TrainingError(
    'non-finite-loss',
    `${what}; training stopped and ${kept}. Lower the learning rate (now ${lr}) or check the inputs.`,
  );
}
