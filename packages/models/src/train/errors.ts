/**
 * Why a training run stopped without finishing: a non-finite loss, a checkpoint that cannot be
 * read or belongs to another configuration. The message says what happened, where (epoch, step,
 * file) and what to do; `code` lets the CLI pick an exit status.
 */
export type TrainingErrorCode = 'non-finite-loss' | 'bad-checkpoint' | 'config-mismatch' | 'no-checkpoint' | 'run-exists';

export class TrainingError extends Error {
  override readonly name = 'TrainingError';
  constructor(
    readonly code: TrainingErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isTrainingError(e: unknown): e is TrainingError {
  return e instanceof TrainingError;
}
