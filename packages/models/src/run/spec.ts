/**
 * The network of a run (what config.json records as `config.model`) and the input transform it is
 * evaluated with. Training, evaluation, predict and the web page prepare films the same way from
 * one spec.
 */
// Types only: the CLI reads specs while printing --help, before the GPU engine is loaded
// (@spine/models/run); buildModel is in build-model.ts.
import type { SequentialCnnConfig } from '../models/sequential-cnn-config.js';

export const DENSENET_ARCHS = ['densenet121', 'densenet169', 'densenet201'] as const;
export type DenseNetArch = (typeof DENSENET_ARCHS)[number];

/**
 * A torchvision DenseNet with a 2-class head. `weights`: 'imagenet' (torchvision's checkpoint from the
 * weights cache, classifier replaced), 'none' (torchvision's random init), or a path to a .pth or
 * .safetensors file (every key but the classifier is loaded).
 */
export interface DenseNetModelConfig {
  kind: 'densenet';
  arch: DenseNetArch;
  inputSize: number;
  numClasses: number;
  dropRate: number;
  memoryEfficient: boolean;
  weights: string;
  /** The features get no gradient in epochs 1..N (the new head warms up first). */
  freezeFeaturesEpochs: number;
  /** How a film becomes the square input: torchvision's ImageNet recipe for pretrained weights. */
  resize: 'stretch' | 'shorter-side-crop';
}

/**
 * The network of a run. The sequential CNN's config carries no `kind` (or 'seqcnn'): config.json
 * files written before DenseNet existed load unchanged and hash the same, so those runs still resume.
 */
export type ModelConfig = (SequentialCnnConfig & { kind?: 'seqcnn' }) | DenseNetModelConfig;

export function isDenseNetConfig(m: ModelConfig): m is DenseNetModelConfig {
  return m.kind === 'densenet';
}

/** The evaluation input transform of a run's network (TransformConfig without augmentation). */
export interface InputTransform {
  width: number;
  height: number;
  resize: 'stretch' | 'shorter-side-crop';
  mean?: [number, number, number];
  std?: [number, number, number];
}

/** The input pipeline of a run's network: the sequential CNN stretches the film, DenseNet uses its recorded resize. */
export function inputTransform(m: ModelConfig): { width: number; height: number; resize: InputTransform['resize'] } {
  return { width: m.inputSize, height: m.inputSize, resize: isDenseNetConfig(m) ? m.resize : 'stretch' };
}
