// Public surface of the convolution and pooling ops (re-exported by the package index).
// Route switches (setConvAlgorithm, setWinogradTile) are @spine/nn/tuning's.
export { conv2d, type Conv2dOptions, type IntPair } from './conv2d/conv2d.js';
export {
  maxPool2d,
  avgPool2d,
  adaptiveAvgPool2d,
  globalAvgPool2d,
  poolOutputSize,
  type MaxPool2dOptions,
  type AvgPool2dOptions,
} from './pool.js';
