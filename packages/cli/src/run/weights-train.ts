/**
 * The DenseNet side of spine-cli train: the flags that only a DenseNet takes, where --weights points
 * (the cache for 'imagenet', checked before the run directory is made), and loading them into the
 * new network (every key but the classifier; a fresh nn.Linear head).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  DenseNet,
  findPretrained,
  isDenseNetConfig,
  loadPretrainedFeatures,
  readWeightsFile,
  resolveCacheDir,
  weightsPaths,
  type RunModel,
} from '@spine/models';
import type { Values } from '../ui/args.js';
import { choiceFlag, integerFlag } from '../ui/args.js';
import { CliError, UsageError } from '../ui/errors.js';
import { weightsCliError } from '../weights/errors.js';
import { type RunConfig } from './config.js';

const NAME = 'train';

/** --weights, --freeze-features, --memory-efficient: DenseNet only. */
export function applyModelFlags(c: RunConfig, values: Values): void {
  const v = (k: string) => values[k] as string | undefined;
  const only = ['weights', 'weights-cache', 'freeze-features', 'memory-efficient'].filter((k) => v(k) !== undefined);
  if (!isDenseNetConfig(c.model)) {
    if (only.length)
      throw new UsageError(
        `--${only[0]} is for a DenseNet (--model densenet121 or a paper-densenet preset), not the sequential CNN`,
        NAME,
      );
    return;
  }
  const m = c.model;
  if (v('weights') !== undefined) {
    const w = v('weights')!;
    m.weights = w === 'imagenet' || w === 'none' ? w : resolve(w);
  }
  if (v('freeze-features') !== undefined)
    m.freezeFeaturesEpochs = integerFlag(NAME, 'freeze-features', v('freeze-features')!, 0, 100000);
  if (v('memory-efficient') !== undefined)
    m.memoryEfficient = choiceFlag(NAME, 'memory-efficient', v('memory-efficient')!, ['on', 'off'] as const) === 'on';
}

/** What a new run will load: null for none; the file otherwise (an error now if it is not there). */
export async function resolveRunWeights(
  config: RunConfig,
  cacheDir?: string,
): Promise<{ file: string; label: string } | null> {
  const m = config.model;
  if (!isDenseNetConfig(m) || m.weights === 'none') return null;
  if (m.weights !== 'imagenet') {
    if (!existsSync(m.weights))
      throw new CliError(
        `--weights ${m.weights}: no such file`,
        "Pass a .pth or .safetensors file, 'imagenet' or 'none'.",
      );
    return { file: m.weights, label: m.weights };
  }
  const entry = findPretrained(m.arch)!;
  const dir = resolveCacheDir(cacheDir ? { dir: cacheDir } : {});
  const file = weightsPaths(dir, entry).safetensors;
  if (!existsSync(file)) {
    throw new CliError(
      `the ImageNet weights of ${m.arch} are not in the weights cache (${file})`,
      `Fetch them once with: spine-cli weights fetch ${m.arch}\nor train from random init with --weights none, or pass a file with --weights PATH.`,
    );
  }
  return { file, label: `ImageNet (${entry.url})` };
}

/** Load the run's starting weights into a freshly built DenseNet; returns a line for the log. */
export async function loadRunWeights(model: RunModel, weights: { file: string; label: string }): Promise<string> {
  if (!(model instanceof DenseNet)) throw new Error('pretrained weights are only loaded into a DenseNet');
  try {
    const file = await readWeightsFile(weights.file);
    const r = loadPretrainedFeatures(model, file.tensors, weights.file);
    return `weights: ${weights.label}: ${r.loaded} tensors loaded${r.skipped.length ? `, ${r.skipped.join(' and ')} replaced by a new Linear(${model.numFeatures}, ${model.config.numClasses})` : ''}`;
  } catch (e) {
    throw weightsCliError(e);
  }
}
