// train() for Node: the loop of trainer.ts over a run directory, the config hashed with
// node:crypto, and SIGINT/SIGTERM as stop requests.
import { stableKey } from '../data/stable-key.js';
import { runDirStore } from './checkpoint.js';
import { signalStopSource } from './interrupt-signals.js';
import { trainInStore, type TrainOptions, type TrainResult } from './trainer.js';

/** Run (or resume) training; resolves when done or stopped, rejects with TrainingError on a non-finite loss. */
export function train(o: TrainOptions): Promise<TrainResult> {
  const { runDir, config, stopSignals, ...common } = o;
  return trainInStore({
    ...common,
    store: runDirStore(runDir),
    configHash: stableKey(config ?? null),
    stopSources: [signalStopSource(stopSignals ?? ['SIGINT', 'SIGTERM'])],
  });
}
