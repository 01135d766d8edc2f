/** A run's checkpoints as the commands read them: a damaged or foreign one is a CliError that says what to do. */
import { join } from 'node:path';
import { applyCheckpointTensors, isTrainingError, readCheckpoint, type RunModel } from '@spine/models';
import { CliError } from '../ui/errors.js';
import { CONFIG_FILE } from './run-dir.js';

export type Checkpoint = NonNullable<Awaited<ReturnType<typeof readCheckpoint>>>;

/**
 * A run's checkpoint `which`, or undefined when it has none. A damaged one (sidecar or tensor
 * file) is a CliError naming the file and what is wrong, with `advice` (default: use the other
 * checkpoint, or train again).
 */
export async function tryReadRunCheckpoint(
  run: string,
  which: 'best' | 'last',
  advice = otherCheckpointAdvice(which),
): Promise<Checkpoint | undefined> {
  try {
    return await readCheckpoint(run, which);
  } catch (e) {
    throw isTrainingError(e) && e.code === 'bad-checkpoint' ? new CliError(e.message, advice, { cause: e }) : e;
  }
}

/** tryReadRunCheckpoint for commands that need the checkpoint: a missing one is a CliError too. */
export async function readRunCheckpoint(run: string, which: 'best' | 'last', advice?: string): Promise<Checkpoint> {
  const ckpt = await tryReadRunCheckpoint(run, which, advice);
  if (!ckpt)
    throw new CliError(
      `${run} has no '${which}' checkpoint`,
      `Train it first (spine-cli train --out RUN), or finish it with 'spine-cli train --out ${run} --resume'.`,
    );
  return ckpt;
}

/** Loads a checkpoint into the run's model; one of another network is a CliError saying so. */
export function applyRunCheckpoint(run: string, ckpt: Checkpoint, model: RunModel): void {
  try {
    applyCheckpointTensors(ckpt, model);
  } catch (e) {
    if (!isTrainingError(e) || e.code !== 'wrong-model') throw e;
    throw new CliError(
      e.message,
      `The checkpoint belongs to another network than ${join(run, CONFIG_FILE)} describes (copied from another run, or config.json edited); use the run's own checkpoints, or train again into a new --out.`,
      { cause: e },
    );
  }
}

function otherCheckpointAdvice(which: 'best' | 'last'): string {
  const other = which === 'best' ? 'last' : 'best';
  return `Use the run's other checkpoint (--checkpoint ${other}); if that is damaged too, train the run again into a new --out.`;
}
