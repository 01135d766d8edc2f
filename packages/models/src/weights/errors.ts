/**
 * What can go wrong getting or reading pretrained weights, in the user's words: which URL could
 * not be reached and where to put the file by hand, which file failed its SHA-256 check, which
 * key of a checkpoint does not fit the model. `hint` is what to do; `code` lets a CLI choose.
 */
export type WeightsErrorCode =
  | 'unknown-weights'
  | 'offline'
  | 'http'
  | 'interrupted'
  | 'hash-mismatch'
  | 'bad-file'
  | 'incompatible'
  | 'not-cached';

export class WeightsError extends Error {
  override readonly name = 'WeightsError';
  constructor(
    readonly code: WeightsErrorCode,
    message: string,
    /** What to do about it (a command to run, a file to place), one or more lines. */
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True for WeightsError, also across bundle copies of this package. */
export function isWeightsError(e: unknown): e is WeightsError {
  return e instanceof Error && e.name === 'WeightsError' && typeof (e as { code?: unknown }).code === 'string';
}
