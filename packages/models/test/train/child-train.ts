// A small training run in its own process, for the Ctrl-C and kill tests: `node child.js RUN
// EPOCHS [resume]`. Prints `batch <epoch> <batch>` as it goes and `result <json>` at the end.
import * as T from '@spine/tensor/node';
import { train } from '../../src/train/index.js';
import { sampleRecords, setup } from './helpers.js';

const [runDir, epochs, mode] = process.argv.slice(2);
await T.ready();
const s = setup(sampleRecords(8), sampleRecords(4, 8), { batchSize: 4, augment: true });
try {
  const result = await train({
    model: s.model,
    optimizer: s.optimizer,
    scheduler: s.scheduler,
    trainLoader: s.trainLoader,
    valLoader: s.valLoader,
    epochs: Number(epochs),
    runDir: runDir!,
    lossEvery: 3,
    resume: mode === 'resume',
    config: { test: 'child' },
    hooks: { onBatch: (p) => process.stdout.write(`batch ${p.epoch} ${p.batch}\n`) },
  });
  process.stdout.write(
    `result ${JSON.stringify({ status: result.status, stopReason: result.stopReason, epochsCompleted: result.epochsCompleted, step: result.step })}\n`,
  );
} finally {
  await s.close();
}
