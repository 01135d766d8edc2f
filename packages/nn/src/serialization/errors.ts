/**
 * The one error type the serialization code throws for bad input: a truncated or corrupt file,
 * an unknown dtype, a tensor that does not fit its storage, a pickle global outside the
 * allow-list. `file` is what the caller called the bytes (a path, or "<memory>"); `key` is the
 * tensor's name in the checkpoint when one is involved. The message combines them, so a CLI can
 * print it as-is without a stack trace.
 */
export class SerializationError extends Error {
  override readonly name = 'SerializationError';
  readonly file: string;
  readonly key: string | undefined;
  readonly reason: string;

  constructor(file: string, reason: string, key?: string, options?: { cause?: unknown }) {
    super(`${file}: ${key === undefined ? '' : `tensor '${key}': `}${reason}`, options);
    this.file = file;
    this.key = key;
    this.reason = reason;
  }
}

/** True for errors raised by this module (use instead of instanceof across bundle copies). */
export function isSerializationError(e: unknown): e is SerializationError {
  return e instanceof Error && e.name === 'SerializationError' && 'reason' in e;
}
