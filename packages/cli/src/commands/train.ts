/** spine-cli train: resolve a config (preset + flags), set up the run directory, train, evaluate the test split. */
import { existsSync, promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  applyCheckpointTensors,
  applyFeatureFreeze,
  DataLoader,
  DenseNet,
  DENSENET_ARCHS,
  type EpochMetrics,
  evaluate,
  formatEvaluation,
  inputTransform,
  isDenseNetConfig,
  isTrainingError,
  loadSplit,
  PAPER_SEQCNN,
  readCheckpoint,
  readCheckpointMeta,
  saveSplit,
  sequentialCnnShapes,
  stratifiedSplit,
  train,
  writeFileAtomic,
} from '@spine/models';
import { MultiStepLR, SGD } from '@spine/nn';
import { deviceInfo, releaseDevice } from '@spine/tensor/node';
import { matmulTiers, warmMatmul } from '@spine/tensor/tuning';
import { ensureSyntheticSet, syntheticSetAt } from '../run/synthetic-sets.js';
import { PRESETS, denseNetModel, largestWeight, presetConfig, type RunConfig } from '../run/config.js';
import {
  CONFIG_FILE,
  SPLIT_FILE,
  buildModel,
  readyDevice,
  evaluationLoader,
  gitCommit,
  loadData,
  readRunRecord,
  runConfigHashInput,
  runRecordJson,
  writeEvaluation,
  type RunRecord,
} from '../run/run-dir.js';
import { choiceFlag, integerFlag } from '../ui/args.js';
import { maxPixelsFlag } from '../ui/max-pixels.js';
import { CliError, EXIT_OK, UsageError } from '../ui/errors.js';
import { Progress, formatDuration } from '../ui/progress.js';
import { reportAfterTraining } from '../report/after-training.js';
import { packageVersions } from '../version.js';
import type { Values } from './command.js';
import { applyModelFlags, loadRunWeights, resolveRunWeights } from '../run/weights-train.js';

const NAME = 'train';
/** Flags that may change on --resume (they do not change what is computed). */
const RESUMABLE = new Set(['out', 'resume', 'epochs', 'workers', 'cache', 'json', 'max-pixels']);

export async function run(values: Values): Promise<number> {
  const out = resolve(
    (values.out as string | undefined) ?? join('runs', new Date().toISOString().replace(/[:.]/g, '-')),
  );
  const resume = values.resume === true;
  if (resume && values.out === undefined) throw new UsageError('--resume needs --out RUN (the run to continue)', NAME);
  const record = resume ? await resumeRecord(out, values) : await newRecord(out, values);
  return trainRun(out, record, values, resume);
}

function numberFlag(flag: string, text: string, min: number, max: number): number {
  const n = /^[+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isFinite(n) || n < min || n > max)
    throw new UsageError(`--${flag} must be a number from ${min} to ${max}, got '${text}'`, NAME);
  return n;
}

/** The preset with the flags applied. */
export function resolveConfig(values: Values): RunConfig {
  const v = (k: string) => values[k] as string | undefined;
  const modelName =
    v('model') === undefined
      ? undefined
      : choiceFlag(NAME, 'model', v('model')!, ['seqcnn', ...DENSENET_ARCHS] as const);
  const preset = choiceFlag(
    NAME,
    'preset',
    v('preset') ?? (modelName && modelName !== 'seqcnn' ? 'paper-densenet-cervical' : 'quick'),
    PRESETS,
  );
  const c = presetConfig(preset);
  if (modelName === 'seqcnn' && isDenseNetConfig(c.model)) c.model = { ...PAPER_SEQCNN };
  if (modelName && modelName !== 'seqcnn')
    c.model = isDenseNetConfig(c.model) ? { ...c.model, arch: modelName } : denseNetModel(modelName);
  applyModelFlags(c, values);
  if (v('seed') !== undefined) c.seed = integerFlag(NAME, 'seed', v('seed')!, 0, 0xffffffff);
  if (v('data') !== undefined) c.data = { root: resolve(v('data')!), labels: null };
  if (v('labels') !== undefined) c.data.labels = resolve(v('labels')!);
  if (v('epochs') !== undefined) c.epochs = integerFlag(NAME, 'epochs', v('epochs')!, 1, 100000);
  if (v('batch-size') !== undefined) c.batchSize = integerFlag(NAME, 'batch-size', v('batch-size')!, 1, 4096);
  if (v('lr') !== undefined) c.lr = numberFlag('lr', v('lr')!, 0, 10);
  if (v('momentum') !== undefined) c.momentum = numberFlag('momentum', v('momentum')!, 0, 0.999);
  if (v('weight-decay') !== undefined) c.weightDecay = numberFlag('weight-decay', v('weight-decay')!, 0, 1);
  if (v('input-size') !== undefined)
    c.model = {
      ...c.model,
      inputSize: integerFlag(NAME, 'input-size', v('input-size')!, isDenseNetConfig(c.model) ? 32 : 16, 1024),
    };
  if (v('classifier-lr-factor') !== undefined)
    c.classifierLrFactor = numberFlag('classifier-lr-factor', v('classifier-lr-factor')!, 0, 1000);
  if (v('precision') !== undefined) {
    if (choiceFlag(NAME, 'precision', v('precision')!, ['f32', 'mixed'] as const) === 'mixed') c.precision = 'mixed';
    else delete c.precision;
  }
  if (v('augment') !== undefined)
    c.augment = choiceFlag(NAME, 'augment', v('augment')!, ['on', 'off'] as const) === 'on';
  if (v('hidden') !== undefined) {
    if (isDenseNetConfig(c.model))
      throw new UsageError(
        `--hidden sets the sequential CNN's FC widths; ${c.model.arch} has one Linear classifier`,
        NAME,
      );
    const parts = v('hidden')!
      .split(',')
      .map((s) => integerFlag(NAME, 'hidden', s, 1, 65536));
    if (parts.length > 2)
      throw new UsageError(`--hidden takes one or two widths (FC6[,FC7]), got '${v('hidden')}'`, NAME);
    c.model = { ...c.model, hidden: [parts[0]!, parts[1] ?? parts[0]!] };
  }
  return c;
}

async function newRecord(out: string, values: Values): Promise<RunRecord> {
  const config = resolveConfig(values);
  if (existsSync(join(out, CONFIG_FILE))) {
    const started = existsSync(join(out, 'checkpoints', 'last.json'));
    throw new CliError(
      `${out} already holds a run${started ? '' : ' that stopped before its first checkpoint'}`,
      started
        ? 'Continue it with --resume, or choose another --out.'
        : '--resume starts it again from epoch 1 with its saved settings; or choose another --out.',
    );
  }
  const pretrained = await resolveRunWeights(config, values['weights-cache'] as string | undefined);
  return {
    format: 'spine-run',
    version: 2,
    config,
    createdAt: new Date().toISOString(),
    command: process.argv.slice(2),
    packageVersions: packageVersions(),
    gitCommit: gitCommit(),
    adapter: null,
    pretrained,
  };
}

async function resumeRecord(out: string, values: Values): Promise<RunRecord> {
  const changed = Object.keys(values).filter((k) => values[k] !== undefined && !RESUMABLE.has(k) && k !== 'help');
  if (changed.length > 0) {
    throw new UsageError(
      `--resume continues a run with its recorded settings; only --epochs, --workers, --cache and --max-pixels may be given (not --${changed.join(', --')})`,
      NAME,
    );
  }
  const record = await readRunRecord(out);
  if (values.epochs !== undefined)
    record.config.epochs = integerFlag(NAME, 'epochs', values.epochs as string, 1, 100000);
  return record;
}

async function trainRun(out: string, record: RunRecord, values: Values, resume: boolean): Promise<number> {
  const config = record.config;
  const workers =
    values.workers === undefined ? undefined : integerFlag(NAME, 'workers', values.workers as string, 0, 64);
  const maxPixels = maxPixelsFlag(NAME, values);
  const cacheDir = resolve((values.cache as string | undefined) ?? join(out, '..', '.spine-cache'));
  const log = (s: string) => process.stderr.write(`${s}\n`);
  // A run killed before its first checkpoint has its config.json and split.json and nothing to
  // continue from: --resume starts it again at epoch 1 with its recorded settings.
  const fromCheckpoint = resume && (await lastCheckpointExists(out));
  if (resume && !fromCheckpoint)
    log(`${out} stopped before its first checkpoint: starting it again from epoch 1 with its saved settings`);

  // The adapter first: a network that cannot fit the binding limit fails here, not in a kernel.
  await readyDevice();
  const info = deviceInfo();
  // A DenseNet's largest weight is a few MB at most (its classifier is 1024 x 2), so only the
  // sequential CNN's FC6 can exceed the binding limit.
  const seq = isDenseNetConfig(config.model) ? null : config.model;
  const shapes = (() => {
    if (!seq) return null;
    try {
      return sequentialCnnShapes(seq);
    } catch (e) {
      throw new CliError(
        `--input-size ${seq.inputSize}: ${(e as Error).message}`,
        "Use a larger --input-size (at least 32 for the quick network, 227 for the paper's).",
      );
    }
  })();
  const big = seq && shapes ? largestWeight(seq, shapes.fc6Inputs) : { name: '', bytes: 0, shape: [] };
  const limit = info.limits.maxStorageBufferBindingSize;
  if (big.bytes > limit) {
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
    throw new CliError(
      `${big.name} [${big.shape.join(', ')}] takes ${mib(big.bytes)}, over this adapter's storage-binding limit of ${mib(limit)} (maxStorageBufferBindingSize, ${info.description || info.device || info.backend})`,
      `Run on a GPU whose limit is larger (spine-cli doctor shows it), or shrink the layer, e.g. --hidden ${Math.max(1, Math.floor(limit / 4 / Math.max(...big.shape) / 2))} or a smaller --input-size.`,
    );
  }
  record.adapter = record.adapter ?? info;

  // Synthetic sets in the cache (the quick start's films, the sample outside a checkout) are
  // generated on first use, and again if the cache was cleared.
  const synthetic = syntheticSetAt(config.data.root);
  if (synthetic) await ensureSyntheticSet(synthetic, config.data.root, log);
  const dataset = await loadData(config, resume ? 'header' : 'auto', maxPixels);
  let split;
  if (resume) {
    split = await loadSplit(join(out, SPLIT_FILE), dataset);
  } else if (values.split !== undefined) {
    split = await loadSplit(resolve(values.split as string), dataset);
  } else {
    split = stratifiedSplit(dataset, { seed: config.seed, fractions: config.splitFractions });
  }
  if (split.train.length === 0)
    throw new CliError('the split has no training films', 'Use more data or other --fractions in spine-cli split.');
  const model = buildModel(config);
  // A resumed run takes every weight from its checkpoint; a new (or restarted) one loads pretrained
  // weights, a new one before the run directory exists, so weights that do not fit leave nothing behind.
  const weightsLine =
    !fromCheckpoint && record.pretrained
      ? await loadRunWeights(model, record.pretrained).catch((e: unknown) => {
          model.dispose();
          throw e;
        })
      : undefined;
  if (!resume) {
    await fs.mkdir(out, { recursive: true });
    await saveSplit(join(out, SPLIT_FILE), split);
    await writeFileAtomic(join(out, CONFIG_FILE), runRecordJson(record, out));
  }

  const size = config.model.inputSize;
  const loaderCommon = { ...(workers !== undefined ? { workers } : {}), cacheDir, maxPixels };
  const freezeEpochs = isDenseNetConfig(config.model) ? config.model.freezeFeaturesEpochs : 0;
  const optimizer = new SGD(
    [
      { params: model.features.parameters(), name: 'features' },
      { params: model.classifier.parameters(), name: 'classifier', lr: config.lr * config.classifierLrFactor },
    ],
    { lr: config.lr, momentum: config.momentum, weightDecay: config.weightDecay },
  );
  const scheduler = new MultiStepLR(optimizer, config.scheduler.milestones, config.scheduler.gamma);
  const trainLoader = new DataLoader(split.train, {
    batchSize: config.batchSize,
    transform: { ...inputTransform(config.model), ...(config.augment ? { augment: true } : {}) },
    seed: config.seed,
    ...loaderCommon,
  });
  const valLoader =
    split.val.length > 0 ? evaluationLoader(split.val, config, workers, cacheDir, maxPixels) : undefined;
  const testLoader =
    split.test.length > 0 ? evaluationLoader(split.test, config, workers, cacheDir, maxPixels) : undefined;

  log(
    `${fromCheckpoint ? 'Resuming' : 'Training'} ${out}: preset ${config.preset}, ${split.train.length} train / ${split.val.length} val / ${split.test.length} test films at ${size} px, ${config.epochs} epochs, batch ${config.batchSize}, lr ${config.lr}, seed ${config.seed}`,
  );
  log(`adapter: ${info.description || info.device || info.vendor} (${info.backend})`);
  log(`model: ${describeModel(config)}`);
  if (config.precision === 'mixed')
    log('precision: mixed (Conv2d and Linear with f16 operands and f32 sums, dynamic loss scaling)');
  if (weightsLine) log(weightsLine);
  // DenseNet on lavapipe trains for hours: warm the wide matmul blocks from the start (in a
  // background process) instead of after the tier-up's work threshold. No-op elsewhere, and while
  // the matmul reads texture operands (the default), which need no wide blocks.
  if (
    isDenseNetConfig(config.model) &&
    !(await warmMatmul(undefined, { wait: false })) &&
    matmulTiers().some((t) => t.state === 'warming')
  ) {
    log('matmul: compiling wider blocks in a background process; they take over when ready (once per machine)');
  }
  let bar: Progress | undefined;
  let lastLoss: number | undefined;
  const started = performance.now();
  try {
    const result = await train({
      model,
      optimizer,
      scheduler,
      trainLoader,
      ...(valLoader ? { valLoader } : {}),
      epochs: config.epochs,
      ...(config.precision ? { precision: config.precision } : {}),
      runDir: out,
      config: runConfigHashInput(record, out),
      resume: fromCheckpoint,
      hooks: {
        onEpochStart: (i) => {
          if (freezeEpochs > 0 && model instanceof DenseNet) {
            applyFeatureFreeze(model, i.epoch, freezeEpochs);
            if (i.epoch === 1 || i.epoch === freezeEpochs + 1)
              log(
                i.epoch <= freezeEpochs
                  ? `features frozen for epochs 1-${freezeEpochs}: training the classifier only`
                  : 'features unfrozen: training every layer',
              );
          }
          bar = new Progress(i.batches, {
            unit: 'batches',
            label: `epoch ${i.epoch}/${i.epochs}`,
            plainEverySeconds: 30,
          });
          lastLoss = undefined;
        },
        onBatch: (p) => {
          if (p.loss !== undefined) lastLoss = p.loss;
          bar?.update(
            p.batch,
            `${lastLoss === undefined ? '' : `loss ${lastLoss.toFixed(3)}, `}${p.imagesPerSecond.toFixed(1)} images/s`,
          );
        },
        onEpochEnd: (m) => {
          bar?.finish();
          log(epochLine(m));
        },
        onStopRequested: (reason) =>
          log(`\n${reason}: finishing the current batch and saving (press again to force)...`),
      },
    });
    if (result.status === 'interrupted') {
      log(
        `Stopped (${result.stopReason ?? 'interrupted'}) after ${result.epochsCompleted} complete epochs; the run is saved.`,
      );
      log(`Resume with: spine-cli train --out ${out} --resume`);
      return 130;
    }
    log(
      `Trained ${result.epochsCompleted} epochs in ${formatDuration((performance.now() - started) / 1000)}${result.best ? `; best validation accuracy ${result.best.value.toFixed(3)} at epoch ${result.best.epoch}` : ''}`,
    );
    if (result.lossScale)
      log(
        `Mixed precision: loss scale ${result.lossScale.scale} at the end; ${result.lossScale.skippedSteps} step${result.lossScale.skippedSteps === 1 ? '' : 's'} skipped for an overflow`,
      );
    if (!testLoader) {
      await reportAfterTraining(out, model, log, maxPixels);
      if (values.json)
        process.stdout.write(
          `${JSON.stringify({ run: out, status: result.status, epochs: result.epochsCompleted, best: result.best, test: null })}\n`,
        );
      return EXIT_OK;
    }
    // The test set is evaluated with the best checkpoint (highest validation accuracy).
    const which = result.best ? 'best' : 'last';
    const ckpt = await readCheckpoint(out, which);
    if (ckpt) applyCheckpointTensors(ckpt, model);
    const ev = await evaluate(model, testLoader, { bootstrapSeed: config.seed });
    const files = await writeEvaluation(out, `test-${which}`, ev, {
      split: 'test',
      checkpoint: which,
      run: out,
    });
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ run: out, status: result.status, epochs: result.epochsCompleted, best: result.best, test: { split: 'test', checkpoint: which, ...ev.report } }, null, 2)}\n`,
      );
    } else {
      process.stdout.write(
        `\nTest set (${ev.report.n} films, ${which} checkpoint):\n${formatEvaluation(ev.report)}\n\nRun directory: ${out}\n  ${files.json}\n`,
      );
    }
    await reportAfterTraining(out, model, log, maxPixels);
    return EXIT_OK;
  } catch (e) {
    if (isTrainingError(e)) {
      const code = (e as { code?: string }).code;
      if (code === 'run-exists') throw new CliError(e.message, 'Continue it with --resume, or choose another --out.');
      if (code === 'config-mismatch')
        throw new CliError(e.message, 'The run was made with other settings; train into a new --out instead.');
      if (code === 'bad-checkpoint') throw new CliError(e.message, DAMAGED_LAST, { cause: e });
      throw new CliError(e.message, code === 'non-finite-loss' ? 'Try a smaller --lr.' : undefined, { cause: e });
    }
    throw e;
  } finally {
    await trainLoader.close();
    await valLoader?.close();
    await testLoader?.close();
    model.dispose();
    await releaseDevice();
  }
}

const DAMAGED_LAST = "The run's last checkpoint is damaged and cannot be continued; train again into a new --out.";

async function lastCheckpointExists(out: string): Promise<boolean> {
  try {
    return (await readCheckpointMeta(out, 'last')) !== undefined;
  } catch (e) {
    if (isTrainingError(e)) throw new CliError(e.message, DAMAGED_LAST, { cause: e });
    throw e;
  }
}

function describeModel(c: RunConfig): string {
  const m = c.model;
  if (!isDenseNetConfig(m))
    return `sequential CNN, ${m.inputSize} px, channels ${m.channels.join('/')}, FC ${m.hidden.join('/')}`;
  const freeze = m.freezeFeaturesEpochs > 0 ? `, features frozen for ${m.freezeFeaturesEpochs} epochs` : '';
  return `${m.arch}, ${m.inputSize} px (${m.resize === 'shorter-side-crop' ? 'shorter side scaled, centre crop' : 'stretched'}), weights ${m.weights}${m.memoryEfficient ? ', memory-efficient' : ''}${freeze}, classifier lr x${c.classifierLrFactor}`;
}

function epochLine(m: EpochMetrics): string {
  const val = m.valAccuracy !== undefined ? `, val loss ${m.valLoss!.toFixed(3)} acc ${m.valAccuracy.toFixed(3)}` : '';
  return `epoch ${m.epoch}: lr ${m.lr.toPrecision(3)}, train loss ${m.trainLoss.toFixed(3)} acc ${m.trainAccuracy.toFixed(3)}${val}, ${m.imagesPerSecond.toFixed(1)} images/s, ${formatDuration(m.seconds)}`;
}
