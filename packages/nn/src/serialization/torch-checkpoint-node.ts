// Reading a PyTorch checkpoint from disk. The zip container is parsed in memory by fflate, so the
// file is read whole; checkpoints we meet (DenseNet-121: 32 MB) make that cheap, and the tensors
// are then extracted one storage at a time.
import { readFile } from 'node:fs/promises';
import type { TensorRecord } from './dtypes.js';
import { readTorchCheckpoint, type TorchReadOptions } from './torch-checkpoint.js';

export async function readTorchCheckpointFile(
  path: string,
  options: Omit<TorchReadOptions, 'file'> = {},
): Promise<Map<string, TensorRecord>> {
  const bytes = await readFile(path);
  return readTorchCheckpoint(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
    ...options,
    file: path,
  });
}
