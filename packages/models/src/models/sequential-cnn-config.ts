// The paper's sequential CNN as plain data (no GPU code, so spine-cli's --help and presets can
// read it through @spine/models/run): its configuration type and the paper's settings. The
// network itself is sequential-cnn.ts.

export interface LrnConfig {
  size: number;
  /** PyTorch's alpha (divided by size inside the op). */
  alpha: number;
  beta: number;
  k: number;
}

/**
 * AlexNet's LRN (n 5, alpha 1e-4 *not* divided by n, beta 0.75, k 2) expressed in PyTorch's
 * form, whose alpha is divided by n: alpha = 1e-4 * 5.
 */
export const ALEXNET_LRN: LrnConfig = { size: 5, alpha: 5e-4, beta: 0.75, k: 2 };

export interface SequentialCnnConfig {
  numClasses: number;
  /** Square input size (227 in the paper). */
  inputSize: number;
  inChannels: number;
  /** conv1..conv5 output channels. */
  channels: [number, number, number, number, number];
  /** FC6 and FC7 widths. */
  hidden: [number, number];
  conv1: { kernel: number; stride: number; padding: number };
  conv2: { stride: number; padding: number };
  lrn: LrnConfig;
  dropout: number;
  /** Std of the zero-mean Gaussian weight init (biases start at 0). */
  initStd: number;
  /**
   * Not the paper's: batch norm after every conv (conv without bias -> BatchNorm2d -> ReLU) in
   * place of LRN, for small fast networks that SGD must train in a few epochs (the quick preset).
   * Absent or false: the paper's layout.
   */
  batchNorm?: boolean;
}

export const PAPER_SEQCNN: SequentialCnnConfig = {
  numClasses: 2,
  inputSize: 227,
  inChannels: 3,
  channels: [96, 256, 384, 384, 256],
  hidden: [4096, 4096],
  conv1: { kernel: 7, stride: 2, padding: 0 },
  conv2: { stride: 2, padding: 1 },
  lrn: ALEXNET_LRN,
  dropout: 0.5,
  initStd: 0.01,
};
