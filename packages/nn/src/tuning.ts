// @spine/nn/tuning: switches that force one kernel route over the one chosen per adapter, for
// tests, benchmarks and diagnostics. Browser-safe. A network never needs them: the defaults are
// the measured choices (docs/PERFORMANCE.md).
export { setConvAlgorithm, setConvTiles, type ConvAlgorithm } from './ops/conv2d/conv2d.js';
export { setConvSubgroupMatrixEmulation, setConvSubgroupMatrixShape } from './ops/conv2d/conv2d-subgroup-matrix.js';
export type { SubgroupMatrixShape } from '@spine/tensor';
export { setWinogradTile, setWinogradChunkFloats, type WinogradTile } from './ops/conv2d/conv2d-winograd.js';
export { setBatchNormSinglePass } from './ops/batchnorm.js';
