// @spine/tensor/tuning — switches and plans for tuning kernels to an adapter, and the matmul's
// routing diagnostics. A user of tensors needs none of this: the defaults pick per adapter. Tests,
// benchmarks and `doctor` use it to force a route, try tiles, or report what was chosen. Browser-safe,
// like the core; it acts on the same engine as '@spine/tensor' and '@spine/tensor/node'.
export {
  setMatmulTiles,
  getMatmulTiles,
  matmulRoute,
  matmulGpuPlan,
  TEXTURE_MIN_FLOPS,
  setSubgroupMatrices,
  matmulSubgroupMatrixRoute,
  setMatmulSubgroupMatrixEmulation,
  setMatmulSubgroupMatrixShape,
} from './ops/matmul/matmul.js';
export {
  getGpuTileTable,
  setGpuTileTable,
  gpuSizeClass,
  gpuMatmulPlan,
  splitK,
  GPU_SIZE_CLASSES,
  type GpuTiles,
  type GpuTileRow,
  type GpuSizeClass,
  type GpuMatmulPlan,
} from './ops/matmul/matmul-gpu-tiles.js';
export { chooseSubgroupMatrixConfig } from './ops/matmul/matmul-subgroup-matrix.js';
export { setMatmulTextures, matmulTexturesMode, setTextureSubgroups } from './ops/matmul/matmul-texture.js';
export {
  warmMatmul,
  matmulTiers,
  matmulTierUpActive,
  setMatmulTierUp,
  getMatmulTierUp,
  type TierState,
  type TierUpSettings,
} from './ops/matmul/matmul-tiers.js';
export { setKernelWarmer, getKernelWarmer, type KernelWarmer, type WarmJob } from './kernel-warmer.js';
export { setBlockCopies } from './ops/block-copy.js';
