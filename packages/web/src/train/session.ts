/**
 * One training run on the page, with @spine/models' own pieces: the stratified split, the quick
 * start's settings, buildModel, SGD with the features and classifier groups and MultiStepLR as
 * spine-cli train sets them up, the trainer over a MemoryRunStore (persisted to IndexedDB after
 * every checkpoint), then the test evaluation of the best checkpoint. The files it keeps are a
 * run directory's (config.json, split.json, metrics.jsonl, checkpoints/, eval/).
 */
import * as T from '@spine/tensor';
import { MultiStepLR, SGD } from '@spine/nn';
import {
  DEFAULT_VERDICT,
  MemoryLoader,
  MemoryRunStore,
  applyCheckpointTensors,
  buildModel,
  evaluate,
  evaluationFiles,
  inputTransform,
  splitFromFile,
  stableStringify,
  stratifiedSplit,
  toSplitFile,
  trainInStore,
  type BatchProgress,
  type DatasetSplit,
  type EpochMetrics,
  type EvaluationResult,
  type TrainResult,
  type TrainingSettings,
} from '@spine/models/browser';
import type { WebModel } from '../model-file.js';
import type { PageDataset } from './dataset.js';
import { networkProblem } from './memory-check.js';
import { saveRun, type SavedRun } from './storage.js';

export const CONFIG_FILE = 'config.json';
export const SPLIT_FILE = 'split.json';

export interface SessionEvents {
  onEpochStart(epoch: number, epochs: number): void;
  /** `done` of `total` batches of the whole run; seconds left from the rate so far. */
  onBatch(p: BatchProgress, done: number, total: number, etaSeconds: number): void;
  onEpochEnd(m: EpochMetrics, isBest: boolean): void;
  onEvaluating(): void;
}

export interface SessionResult {
  train: TrainResult;
  /** The test evaluation (of the best checkpoint), null when the split has no test films. */
  test: EvaluationResult | null;
  checkpoint: 'best' | 'last';
  epoch: number;
  /** The evaluated checkpoint as the classifier's model. */
  model: WebModel;
}

/** What stops a run before it trains, in words for the page. */
export class SessionError extends Error {
  override readonly name = 'SessionError';
}

/** spine-cli's run config (config.json's `config`) for these settings and data. */
function runConfig(settings: TrainingSettings, data: PageDataset, labels: string | null) {
  return {
    preset: 'quick',
    ...settings,
    // Relative to the run folder: unzipped beside the films' folder, spine-cli finds them.
    data: { root: `../${data.folder}`, labels: labels === null ? null : `../${labels}` },
  };
}

export class TrainingSession {
  private paused: { promise: Promise<void>; resume: () => void } | undefined;
  private pausedAt = 0;
  private pausedSeconds = 0;
  private readonly abort = new AbortController();
  /** Why the browser's storage refused the run's files (the last save), or undefined when they are kept. */
  notKept: string | undefined;
  readonly store: MemoryRunStore;

  private constructor(
    readonly run: string,
    private readonly data: PageDataset,
    private readonly settings: TrainingSettings,
    private readonly labels: string | null,
    private readonly split: DatasetSplit,
    saved: SavedRun | undefined,
  ) {
    this.store = new MemoryRunStore({
      name: run,
      ...(saved ? { files: saved.files } : {}),
      // Training goes on when the browser keeps nothing (private window, storage full); the
      // page says that a reload will not resume it.
      persist: (files) =>
        saveRun({ folder: data.folder, run, labels, files: new Map(files) }).then(
          () => (this.notKept = undefined),
          (e: unknown) => void (this.notKept ??= e instanceof Error ? e.message : String(e)),
        ),
    });
  }

  /** A new run, or the saved run continued when `saved` is given (its split and settings). */
  static async create(
    data: PageDataset,
    settings: TrainingSettings,
    labels: string | null,
    saved?: SavedRun,
  ): Promise<TrainingSession> {
    if (saved) {
      const read = (name: string): unknown => {
        const bytes = saved.files.get(name);
        try {
          if (!bytes) throw new Error('it is missing');
          return JSON.parse(new TextDecoder().decode(bytes));
        } catch (e) {
          throw new SessionError(
            `the run saved in this browser is damaged (${saved.run}/${name}: ${(e as Error).message}); discard it and train anew`,
          );
        }
      };
      const record = read(CONFIG_FILE) as { config: TrainingSettings };
      const json = read(SPLIT_FILE);
      const split = splitFromFile(json, data.dataset, `${saved.run}/${SPLIT_FILE}`);
      return new TrainingSession(saved.run, data, { ...record.config, epochs: settings.epochs }, labels, split, saved);
    }
    const split = stratifiedSplit(data.dataset, { seed: settings.seed, fractions: settings.splitFractions });
    if (split.train.length === 0)
      throw new SessionError('the split has no training films: choose a folder with more films');
    const run = `run-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    const session = new TrainingSession(run, data, settings, labels, split, undefined);
    const record = {
      format: 'spine-run',
      version: 2,
      config: runConfig(settings, data, labels),
      createdAt: new Date().toISOString(),
      command: ['web page: train'],
      packageVersions: {},
      gitCommit: null,
      adapter: T.deviceInfo(),
      pretrained: null,
    };
    const text = (v: unknown, indent: number) => new TextEncoder().encode(`${JSON.stringify(v, null, indent)}\n`);
    await session.store.put(SPLIT_FILE, text(toSplitFile(split), 1));
    await session.store.put(CONFIG_FILE, text(record, 2));
    return session;
  }

  /** The epochs already done (a resumed run's, from its last checkpoint). */
  async history(): Promise<EpochMetrics[]> {
    return [...((await this.store.readMeta('last'))?.history ?? [])];
  }

  get resuming(): boolean {
    return this.store.files.has('checkpoints/last.json');
  }

  get isPaused(): boolean {
    return this.paused !== undefined;
  }

  pause(): void {
    if (this.paused) return;
    let resume = () => undefined as void;
    const promise = new Promise<void>((r) => (resume = r));
    this.paused = { promise, resume };
    this.pausedAt = performance.now();
  }

  resume(): void {
    if (!this.paused) return;
    this.pausedSeconds += (performance.now() - this.pausedAt) / 1000;
    this.paused.resume();
    this.paused = undefined;
  }

  /** The current step finishes, `last` is saved, and the best checkpoint is evaluated. */
  stop(): void {
    this.abort.abort();
    this.resume();
  }

  async train(events: SessionEvents): Promise<SessionResult> {
    const s = this.settings;
    const transform = inputTransform(s.model);
    const film = (r: { file: string }) => this.data.films.get(r.file)!;
    const beforeBatch = () => this.paused?.promise;
    const trainLoader = new MemoryLoader(this.split.train, film, {
      batchSize: s.batchSize,
      transform: { ...transform, ...(s.augment ? { augment: true } : {}) },
      seed: s.seed,
      beforeBatch,
    });
    const evalOptions = { batchSize: Math.max(s.batchSize, 32), transform, shuffle: false };
    const valLoader = this.split.val.length > 0 ? new MemoryLoader(this.split.val, film, evalOptions) : undefined;
    const testLoader = this.split.test.length > 0 ? new MemoryLoader(this.split.test, film, evalOptions) : undefined;
    T.manualSeed(s.seed);
    const model = buildModel(s.model);
    try {
      const problem = networkProblem(model, s.batchSize, s.model.inputSize, T.deviceInfo().limits);
      if (problem) throw new SessionError(problem);
      const optimizer = new SGD(
        [
          { params: model.features.parameters(), name: 'features' },
          { params: model.classifier.parameters(), name: 'classifier', lr: s.lr * s.classifierLrFactor },
        ],
        { lr: s.lr, momentum: s.momentum, weightDecay: s.weightDecay },
      );
      const scheduler = new MultiStepLR(optimizer, s.scheduler.milestones, s.scheduler.gamma);
      const { epochs: _epochs, ...hashed } = runConfig(s, this.data, this.labels);
      const total = s.epochs * trainLoader.batchesPerEpoch;
      const started = performance.now();
      let doneAtStart: number | undefined;
      const result = await trainInStore({
        model,
        optimizer,
        scheduler,
        trainLoader,
        ...(valLoader ? { valLoader } : {}),
        epochs: s.epochs,
        store: this.store,
        configHash: await sha256Key(stableStringify(hashed)),
        resume: this.resuming,
        abortSignal: this.abort.signal,
        hooks: {
          onEpochStart: (i) => events.onEpochStart(i.epoch, i.epochs),
          onBatch: (p) => {
            const done = (p.epoch - 1) * p.batches + p.batch;
            doneAtStart ??= done - 1;
            const seconds = (performance.now() - started) / 1000 - this.pausedSeconds;
            events.onBatch(p, done, total, ((total - done) * seconds) / Math.max(1, done - doneAtStart));
          },
          onEpochEnd: (m, { isBest }) => events.onEpochEnd(m, isBest),
        },
      });
      events.onEvaluating();
      const which = result.best ? 'best' : 'last';
      const ckpt = await this.store.read(which);
      if (!ckpt) throw new SessionError('the run stopped before its first checkpoint: nothing to evaluate yet');
      applyCheckpointTensors(ckpt, model);
      let test: EvaluationResult | null = null;
      if (testLoader) {
        test = await evaluate(model, testLoader, { bootstrapSeed: s.seed });
        const files = evaluationFiles(`test-${which}`, test, {
          split: 'test',
          checkpoint: which,
          epoch: ckpt.meta.epoch,
          run: this.run,
        });
        for (const f of [files.json, files.csv]) await this.store.put(f.path, new TextEncoder().encode(f.text));
      }
      return {
        train: result,
        test,
        checkpoint: which,
        epoch: ckpt.meta.epoch,
        model: {
          label: `trained here on ${this.data.folder} (${which} checkpoint, epoch ${ckpt.meta.epoch})`,
          model: s.model,
          transform,
          verdict: DEFAULT_VERDICT,
          weights: ckpt.model,
        },
      };
    } finally {
      model.dispose();
    }
  }
}

/** stableKey's value (the first 16 hex digits of SHA-256) with the browser's digest. */
async function sha256Key(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)]
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('')
    .slice(0, 16);
}
