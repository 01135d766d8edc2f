// @spine/tensor — browser-safe core. Node users import '@spine/tensor/node' (Dawn) instead,
// which re-exports everything here. Kernel tuning and routing diagnostics are '@spine/tensor/tuning'.
// The declarations name WebGPU's types (GPUDevice, GPUBuffer): the reference below is kept in the
// emitted index.d.ts so that a consumer type-checking its dependencies finds them.
/// <reference types="@webgpu/types" preserve="true" />
import { backward } from './backward.js';
import { setBackwardHook } from './tensor.js';

setBackwardHook(backward);

export { Tensor, type DType } from './tensor.js';
export {
  ready,
  releaseDevice,
  deviceInfo,
  setGpuProvider,
  getEngine,
  setKernelFamily,
  addReadyCheck,
  type ReadyCheck,
  type DeviceOptions,
  type DeviceInfo,
  type GpuProvider,
  type GpuHandle,
} from './device.js';
export type { SubgroupMatrixConfig } from './adapter-facts.js';
export { TensorError, ShapeError, NoAdapterError, WgslCompileError, errorSummary } from './errors.js';
export { scope } from './scope.js';
export { format, formatTensor, formatValues, type FormatNotes } from './format.js';
export { checkAtNextRead, pendingDeviceCheck, type ExplainFlag } from './device-checks.js';
export { memory, resetPeakMemory, flush, sync, profileKernels } from './memory.js';
export type { DispatchTiming, KernelProfile, KernelTiming } from './kernel-profiler.js';
export type { PoolStats } from './buffer-pool.js';
export {
  noGrad,
  isGradEnabled,
  detach,
  defineOp,
  OpContext,
  GraphNode,
  type OpSpec,
  type BackwardRule,
  type PendingGradients,
} from './autograd.js';
export { backward } from './backward.js';
export { replayable, hostEffect, ReplayableStep, type ReplayOptions, type ReplayStatus } from './replay.js';
export {
  defineKernel,
  runKernel,
  Uniforms,
  uniformPreamble,
  grid1d,
  linearIndex,
  type Kernel,
  type KernelSpec,
  type RunArgs,
} from './kernel.js';
// The shared core of GEMM kernels on subgroup matrices (tensor cores): @spine/nn's convolutions build on it.
export {
  subgroupMatrixBlock,
  subgroupMatrixEnables,
  subgroupMatrixAccumulators,
  subgroupMatrixProducts,
  subgroupMatrixStores,
  type SubgroupMatrixTiles,
  type SubgroupMatrixConfiguration,
  type SubgroupMatrixShape,
  type TileLayout,
} from './ops/matmul/subgroup-matrix-tiles.js';
export type { TextureBinding } from './engine.js';
export {
  tileAccumulators,
  tileInnerProduct,
  tiledKLoop,
  stagingRegisters,
  stagingLoad,
  stagingStore,
  type TileStaging,
} from './tile-codegen.js';
export {
  manualSeed,
  getRngState,
  setRngState,
  nextRngBlock,
  rngU32,
  rngUniform,
  seedKeys,
  RNG_WGSL,
  type RngState,
} from './rng.js';
export { numel, broadcastShapes, contiguousStrides, type Shape } from './shape.js';
export {
  tensor,
  empty,
  zeros,
  ones,
  full,
  zerosLike,
  onesLike,
  fullLike,
  arange,
  rand,
  randn,
  bernoulli,
  setPoisonOutputs,
  type RandomOptions,
} from './ops/creation.js';
export {
  neg,
  exp,
  log,
  sqrt,
  rsqrt,
  relu,
  sigmoid,
  tanh,
  abs,
  square,
  reciprocal,
  sign,
  floor,
  ceil,
  add,
  sub,
  mul,
  div,
  pow,
  maximum,
  minimum,
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
  where,
  clamp,
  cast,
  map,
  addSame,
  addSameMax,
  type TensorLike,
} from './ops/elementwise.js';
export { ELEMENTWISE, type ElementwiseDef, type ElementwiseName } from './ops/elementwise-table.js';
export { runElementwise, type Operand, type ElementwiseCall } from './ops/elementwise-kernel.js';
export { sum, mean, max, min, argmax, argmin, variance, sumTo, type Axes } from './ops/reduce.js';
export {
  reshape,
  flatten,
  squeeze,
  unsqueeze,
  permute,
  transpose,
  slice,
  narrow,
  concat,
  stack,
  pad,
  expand,
  clone,
  type SliceRange,
} from './ops/shape-ops.js';
export {
  matmul,
  matmulRaw,
  matmulSharedWeightGrads,
  matmulSumBatch,
  prepareTextureProduct,
  stagesBAffine,
  subgroupMatrixStatus,
  type MatmulFlags,
} from './ops/matmul/matmul.js';
// Registers the ready() check that decides whether f16 products run on subgroup matrices.
import './ops/matmul/subgroup-matrix-check.js';
export { runTextureProduct, type ProductOperand, type TextureProduct } from './ops/matmul/matmul-texture.js';
export { matmulAutocast } from './ops/matmul/matmul-autocast.js';
export { roundToF16 } from './half.js';
export { roundToHalfValues } from './ops/half-cast.js';
export type { BAffine } from './ops/matmul/matmul-stage.js';
export { softmax, logSoftmax } from './ops/softmax.js';
export { assign, writeData } from './ops/assign.js';
