/**
 * The quick start's training settings (spine-cli's `quick` preset): a narrow SequentialCNN with
 * batch norm at 64 px, 16 epochs of SGD with momentum, lr 0.04 cut at epochs 10 and 13,
 * augmentation on, a 70/10/20 split. spine-cli's preset is these settings; the web page trains
 * with them by default. No GPU code: @spine/models/run exports them.
 */
import { PAPER_SEQCNN } from '../models/sequential-cnn-config.js';
import type { ModelConfig } from './spec.js';

/** The fields of spine-cli's run config that say how a network is trained (all but preset and data). */
export interface TrainingSettings {
  seed: number;
  /** Fractions of the films for training, validation and test, when the split is made. */
  splitFractions: [number, number, number];
  model: ModelConfig;
  epochs: number;
  batchSize: number;
  lr: number;
  /** The classifier (FC) group's lr is lr x this. */
  classifierLrFactor: number;
  momentum: number;
  weightDecay: number;
  /** MultiStepLR: the lr is multiplied by gamma at each milestone epoch. */
  scheduler: { type: 'multistep'; milestones: number[]; gamma: number };
  augment: boolean;
}

export function quickTrainingSettings(): TrainingSettings {
  return {
    seed: 0,
    splitFractions: [0.7, 0.1, 0.2],
    model: {
      ...PAPER_SEQCNN,
      inputSize: 64,
      channels: [16, 32, 32, 32, 32],
      hidden: [64, 64],
      conv1: { kernel: 5, stride: 2, padding: 2 },
      conv2: { stride: 1, padding: 1 },
      dropout: 0,
      initStd: 0.1,
      batchNorm: true,
    },
    epochs: 16,
    batchSize: 32,
    lr: 0.04,
    classifierLrFactor: 1,
    momentum: 0.9,
    weightDecay: 5e-4,
    scheduler: { type: 'multistep', milestones: [10, 13], gamma: 0.2 },
    augment: true,
  };
}
