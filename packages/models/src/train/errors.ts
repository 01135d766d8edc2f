/**
 * Why a training run stopped without finishing, or a checkpoint could not be used: a non-finite
 * loss, a checkpoint that is damaged, belongs to another configuration or does not fit the model.
 * The message says what happened and where (epoch, step, file); `code` lets the CLI pick the advice.
 */
export type TrainingErrorCode =
  | 'non-finite-loss'
  | 'bad-checkpoint'
  | 'wrong-model'
  | 'config-mismatch'
  | 'no-checkpoint'
  | 'run-exists';

export class TrainingError extends Error {
  override readonly name = 'TrainingError';
  /** The checkpoint file concerned ('bad-checkpoint', 'wrong-model'). */
  readonly file: string | undefined;
  constructor(
    readonly code: TrainingErrorCode,
    message: string,
    options?: { cause?: unknown; file?: string },
  ) {
    super(message, options);
    this.file = options?.file;
  }
}

export function isTrainingError(e: unknown): e is TrainingError {
  return e instanceof TrainingError;
}
