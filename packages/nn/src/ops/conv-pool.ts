// Public surface of the convolution and pooling ops (re-exported by the package index).
export { conv2d, setConvAlgorithm, type Conv2dOptions, type ConvAlgorithm, type IntPair } from './conv2d/conv2d.js';
export { setWinogradTile, type WinogradTile } from './conv2d/conv2d-winograd.js';
export {
  maxPool2d,
  avgPool2d,
  adaptiveAvgPool2d,
  globalAvgPool2d,
  poolOutputSize,
  type MaxPool2dOptions,
  type AvgPool2dOptions,
} from './pool.js';
