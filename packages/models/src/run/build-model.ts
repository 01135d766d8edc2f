/** The network a run's spec describes (training, evaluation, predict and the web page build it here). */
import { SequentialCNN } from '../models/sequential-cnn.js';
import { densenet121, densenet169, densenet201, type DenseNet } from '../models/densenet/densenet.js';
import { isDenseNetConfig, type ModelConfig } from './spec.js';

/** The networks a run can have; both are a `features` body and a `classifier` head. */
export type RunModel = SequentialCNN | DenseNet;

const DENSENETS = { densenet121, densenet169, densenet201 } as const;

/**
 * The network a spec describes, with fresh weights from the current seed. A DenseNet starts from
 * torchvision's random init; pretrained weights or a checkpoint are loaded into it afterwards.
 */
export function buildModel(m: ModelConfig): RunModel {
  if (isDenseNetConfig(m))
    return DENSENETS[m.arch]({ numClasses: m.numClasses, memoryEfficient: m.memoryEfficient, dropRate: m.dropRate });
  return new SequentialCNN(m);
}
