/**
 * The one error type @spine/imaging throws for bad input. `file` is what the caller called the
 * bytes (a path, a URL, or "<memory>"), `reason` says what was wrong in words a user can act on;
 * the message combines both so a CLI can print it as-is without a stack trace.
 */
export class ImagingError extends Error {
  override readonly name = 'ImagingError';
  readonly file: string;
  readonly reason: string;

  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super(`${file}: ${reason}`, options);
    this.file = file;
    this.reason = reason;
  }
}

/** True for errors raised by this package (use instead of instanceof across bundle copies). */
export function isImagingError(e: unknown): e is ImagingError {
  return e instanceof Error && e.name === 'ImagingError' && 'reason' in e;
}

/** A count with thousands separators ("9,830"), the way error messages print byte and pixel counts. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}
