/**
 * Worker side of the CropPool: holds the index, runs crop and describe tasks, answers each with its
 * result or the error (a bad film fails its own task, never the worker; a CbirError or ImagingError
 * comes back as a CbirError, so its file and reason stay apart).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isImagingError } from '@spine/imaging';
import { isCbirError } from './errors.js';
import { cropFilm, describeInline } from './node.js';
import { RoiIndex } from './roi-index.js';
import type { PoolInit, PoolReply, PoolTask } from './crop-protocol.js';

const init = workerData as PoolInit;
const index = init.index === null ? null : RoiIndex.fromJSON(init.index, 'index');

parentPort!.on('message', (task: PoolTask) => {
  void handle(task).then(
    (reply) => parentPort!.postMessage(reply),
    (e: unknown) =>
      parentPort!.postMessage({
        id: task.id,
        error: e instanceof Error ? e.message : String(e),
        ...(isInputError(e) ? { file: e.file, reason: e.reason } : {}),
      } satisfies PoolReply),
  );
});

/** The errors for a bad film: this package's, or @spine/imaging's from decoding it. */
function isInputError(e: unknown): e is Error & { file: string; reason: string } {
  return isCbirError(e) || isImagingError(e);
}

async function handle(task: PoolTask): Promise<PoolReply> {
  if (task.kind === 'crop') {
    if (index === null) throw new Error('this pool was started without an index');
    return { id: task.id, record: await cropFilm(task.job, index, init.options) };
  }
  return { id: task.id, described: await describeInline(task.file, task.settings, init.options.maxPixels) };
}
