/**
 * Fine-tuning an ImageNet network for the two-class problem, as the paper did with DenseNet-121:
 * every pretrained weight except the 1000-class classifier is loaded, the new Linear(1024, 2) head
 * is initialised the way a fresh torch.nn.Linear is (kaiming_uniform_ with a = sqrt(5), bias
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)); this is what `model.classifier = nn.Linear(1024, 2)` gives in
 * PyTorch, not torchvision's DenseNet constructor, which zeroes the classifier's bias). The features
 * can be frozen for the first epochs, the usual warm-up of a new head on a pretrained body.
 */
import { Module, NnError, init, type Linear, type TensorRecord } from '@spine/nn';
import { WeightsError } from './errors.js';

/** A network split like torchvision's classifiers: a feature extractor and a Linear head. */
export interface FineTunable extends Module {
  features: Module;
  classifier: Linear;
}

const HEAD = /^classifier\./;
/** BatchNorm's step counter: absent from pre-0.4 checkpoints (torchvision's DenseNets), PyTorch loads it as 0. */
const OPTIONAL = /(^|\.)num_batches_tracked$/;

export interface PretrainedLoad {
  /** Tensors copied into the model. */
  loaded: number;
  /** Checkpoint keys left out: the pretrained classifier. */
  skipped: string[];
}

/**
 * Copy every tensor of `weights` except the classifier into `model`, then give the model a fresh
 * classifier. Every feature key of the model must be in the file and vice versa (weights for
 * another depth, say densenet169 into densenet121, are refused by name); shapes must match.
 */
export function loadPretrainedFeatures(
  model: FineTunable,
  fileWeights: ReadonlyMap<string, TensorRecord>,
  file: string,
): PretrainedLoad {
  const weights = unwrapModelKeys(fileWeights);
  const own = [...model.stateDict().keys()].filter((k) => !HEAD.test(k));
  const missing = own.filter((k) => !weights.has(k) && !OPTIONAL.test(k));
  const source = new Map([...weights].filter(([k]) => !HEAD.test(k)));
  const ownSet = new Set(own);
  const unexpected = [...source.keys()].filter((k) => !ownSet.has(k));
  if (missing.length || unexpected.length) {
    const list = (keys: string[]) =>
      `${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ` (+${keys.length - 5} more)` : ''}`;
    const parts = [
      missing.length ? `the model's ${list(missing)} ${missing.length === 1 ? 'is' : 'are'} not in the file` : '',
      unexpected.length
        ? `the file's ${list(unexpected)} ${unexpected.length === 1 ? 'is' : 'are'} not in the model`
        : '',
    ].filter(Boolean);
    throw new WeightsError(
      'incompatible',
      `${file} does not fit this network: ${parts.join('; ')}`,
      'Use weights made for the same architecture (e.g. densenet121 weights for --model densenet121).',
    );
  }
  try {
    model.loadStateDict(source, false);
  } catch (e) {
    if (e instanceof NnError)
      throw new WeightsError('incompatible', `${file}: ${e.message.replace(/^loadStateDict: /, '')}`, undefined, {
        cause: e,
      });
    throw e;
  }
  resetClassifier(model);
  return { loaded: source.size, skipped: [...weights.keys()].filter((k) => HEAD.test(k)) };
}

/**
 * The model's own keys from a state dict saved through a wrapper: nn.DataParallel ('module.'),
 * PyTorch Lightning or a spine-cli checkpoint ('model.', beside 'optimizer.' entries, which are
 * dropped). A plain state dict comes back as it is.
 */
export function unwrapModelKeys<T>(tensors: ReadonlyMap<string, T>): ReadonlyMap<string, T> {
  const keys = [...tensors.keys()];
  for (const prefix of ['model.', 'module.']) {
    if (
      keys.some((k) => k.startsWith(prefix)) &&
      keys.every((k) => k.startsWith(prefix) || k.startsWith('optimizer.'))
    ) {
      return new Map(keys.filter((k) => k.startsWith(prefix)).map((k) => [k.slice(prefix.length), tensors.get(k)!]));
    }
  }
  return tensors;
}

/** Re-initialise the head as a new torch.nn.Linear (reset_parameters), in place. */
export function resetClassifier(model: FineTunable): void {
  const head = model.classifier;
  init.defaultLayerInit_(head.param('weight'), head.optionalParam('bias'));
}

/**
 * Freeze or unfreeze the features (requires_grad, as in PyTorch's fine-tuning recipes). A frozen
 * body gets no gradient, so SGD leaves it alone (no update, no weight decay, no momentum), and
 * backward stops at the head. BatchNorm still updates its running statistics in training mode,
 * exactly as a requires_grad=False body does in PyTorch.
 */
export function setFeaturesTrainable(model: FineTunable, trainable: boolean): void {
  for (const p of model.features.parameters()) {
    p.requiresGrad = trainable;
    if (!trainable) {
      p.grad?.dispose();
      p.grad = null;
    }
  }
}

/** Whether the features are frozen in (1-based) `epoch` when they are frozen for the first `freezeEpochs`. */
export function featuresFrozenIn(epoch: number, freezeEpochs: number): boolean {
  return epoch <= freezeEpochs;
}

/** An onEpochStart hook body: freeze for epochs 1..freezeEpochs, train everything after (also right after a resume). */
export function applyFeatureFreeze(model: FineTunable, epoch: number, freezeEpochs: number): void {
  setFeaturesTrainable(model, !featuresFrozenIn(epoch, freezeEpochs));
}
