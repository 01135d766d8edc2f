/** The package's one error type: what was wrong and, where a file is involved, which file. */
export class CbirError extends Error {
  override readonly name = 'CbirError';
  constructor(
    /** The file concerned ('<memory>' for in-memory input). */
    readonly file: string,
    /** What is wrong with it, in words a user can act on. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(file === '<memory>' ? reason : `${file}: ${reason}`, options);
  }
}

export function isCbirError(e: unknown): e is CbirError {
  return e instanceof Error && e.name === 'CbirError' && typeof (e as CbirError).reason === 'string';
}
