// Serialization, Node-only part (file handles): streaming safetensors and checkpoint files.
export {
  SafetensorsFileReader,
  SafetensorsFileWriter,
  readSafetensorsFile,
  writeSafetensorsFile,
  type TensorSpec,
} from './safetensors-node.js';
export { readTorchCheckpointFile } from './torch-checkpoint-node.js';
