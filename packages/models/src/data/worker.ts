/**
 * Loader worker entry: loads images with the same pipeline the inline mode runs and sends the
 * planes back as transferred buffers. Compiled to dist/data/worker.js by the package build; when the
 * loader itself runs from TypeScript sources (tests), worker-script.ts has it bundled instead.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PreprocessCache } from './cache.js';
import { fileErrorReason } from './file-error.js';
import { loadNetworkInput } from './pipeline.js';
import type { WorkerInit, WorkerReply, WorkerTask } from './worker-protocol.js';

const init = workerData as WorkerInit;
const cache = init.cacheDir !== undefined ? new PreprocessCache(init.cacheDir) : undefined;
// Without a cache every image is a decode; counted the same way so the loader reports one thing.
const stats = cache?.stats ?? { hits: 0, decodes: 0, corrupt: 0 };
const port = parentPort!;

port.on('message', (task: WorkerTask) => {
  void (async () => {
    try {
      const data = await loadNetworkInput(task.path, init.transform, {
        ...(cache ? { cache } : {}),
        seed: task.seed,
        maxPixels: init.maxPixels,
      });
      if (!cache) stats.decodes++;
      const reply: WorkerReply = { id: task.id, data, stats: { ...stats } };
      port.postMessage(reply, [data.buffer as ArrayBuffer]);
    } catch (e) {
      const error = fileErrorReason(e);
      const reply: WorkerReply = { id: task.id, error, stats: { ...stats } };
      port.postMessage(reply);
    }
  })();
});
