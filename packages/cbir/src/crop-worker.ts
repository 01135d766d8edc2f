/**
 * Worker side of the CropPool: holds the index, runs crop and describe tasks, answers each with its
 * result or the error message (a bad film fails its own task, never the worker).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { cropFilm, describeInline } from './node.js';
import { RoiIndex } from './roi-index.js';
import type { PoolInit, PoolReply, PoolTask } from './crop-protocol.js';

const init = workerData as PoolInit;
const index = init.index === null ? null : RoiIndex.fromJSON(init.index, 'index');

parentPort!.on('message', (task: PoolTask) => {
  void handle(task).then(
    (reply) => parentPort!.postMessage(reply),
    (e: unknown) => parentPort!.postMessage({ id: task.id, error: e instanceof Error ? e.message : String(e) } satisfies PoolReply),
  );
});

async function handle(task: PoolTask): Promise<PoolReply> {
  if (task.kind === 'crop') {
    if (index === null) throw new Error('this pool was started without an index');
    return { id: task.id, record: await cropFilm(task.job, index, init.options) };
  }
  return { id: task.id, described: await describeInline(task.file, task.settings, init.options.maxPixels) };
}
