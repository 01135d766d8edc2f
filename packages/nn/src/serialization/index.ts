// Serialization, browser-safe part: safetensors encode/decode of whole buffers and PyTorch
// checkpoint reading from bytes. File streaming lives in node.ts.
export { SerializationError, isSerializationError } from './errors.js';
export { halfToFloat, type DType, type Int64Mode, type TensorData, type TensorRecord } from './dtypes.js';
export {
  decodeSafetensors,
  decodeSafetensorsEntry,
  encodeSafetensors,
  parseSafetensorsHeader,
  planSafetensors,
  readHeaderLength,
  type ReadOptions,
  type SafetensorsEntry,
  type SafetensorsHeader,
  type SafetensorsPlan,
  type TensorLike,
  type TensorSource,
} from './safetensors.js';
export { readTorchCheckpoint, type TorchReadOptions } from './torch-checkpoint.js';
