/**
 * The CLI's errors. A command throws one of these (or lets a package's typed error through) and
 * `cli.ts` prints one message: what was wrong, where, what to do. Exit codes: 1 for a failure,
 * 2 for a usage error (bad or missing flags).
 */

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Something the user can fix by changing the command line; exits 2 with a pointer to --help. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    /** The command whose --help to point at (undefined: the top-level help). */
    readonly command?: string,
  ) {
    super(message);
  }
}

/** A failure with a message fit for the user (no stack unless --debug); exits 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    /** What to do about it, printed on its own line. */
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Node's system errors (ENOENT, EACCES, ...) in words, with the path they concern. */
const SYSTEM_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
  EISDIR: 'is a folder, expected a file',
  ENOTDIR: 'a parent of this path is not a folder',
  EEXIST: 'already exists',
};

/** Renders any error as the lines the user sees; `debug` appends the stack (and causes). */
export function formatError(e: unknown, debug: boolean): string {
  const lines: string[] = [];
  if (e instanceof UsageError) {
    lines.push(`error: ${e.message}`);
    lines.push(`Run 'spine-cli ${e.command ? `${e.command} ` : ''}--help' for usage.`);
  } else if (e instanceof CliError) {
    lines.push(`error: ${e.message}`);
    if (e.hint) lines.push(e.hint);
  } else if (isInputError(e)) {
    // The packages' errors for bad input already name the file and the problem (a DatasetError
    // lists every problem as "line N: file: problem"); a WeightsError adds what to do.
    lines.push(`error: ${e.message}`);
    if (typeof e.hint === 'string' && e.hint) lines.push(e.hint);
  } else if (isSystemError(e)) {
    const what = SYSTEM_ERRORS[e.code] ?? e.code;
    lines.push(`error: cannot ${e.syscall ?? 'access'}${e.path ? ` ${e.path}` : ''}: ${what}`);
  } else if (e instanceof Error) {
    lines.push(`error: ${e.message}`);
    if (!debug)
      lines.push(
        'This looks like a bug in spine-cli or a package it uses; rerun with --debug for the stack and report it.',
      );
  } else {
    lines.push(`error: ${String(e)}`);
  }
  if (debug && e instanceof Error && e.stack) lines.push('', e.stack, ...causes(e));
  return lines.join('\n');
}

function causes(e: Error): string[] {
  const out: string[] = [];
  for (let c = e.cause; c instanceof Error; c = c.cause) out.push(`caused by: ${c.stack ?? c.message}`);
  return out;
}

/**
 * The packages' typed errors for bad input (damaged, truncated or foreign files, bad data), as
 * opposed to internal failures. Recognised by name, as each package's own is*Error does, without
 * loading those packages (and the GPU stack behind them) for every --help.
 */
const INPUT_ERRORS = new Set([
  'DatasetError',
  'TrainingError',
  'WeightsError',
  'SerializationError',
  'ImagingError',
  'CbirError',
  'CsvSyntaxError',
]);

function isInputError(e: unknown): e is Error & { hint?: unknown } {
  return e instanceof Error && INPUT_ERRORS.has(e.name);
}

function isSystemError(e: unknown): e is NodeJS.ErrnoException & { code: string } {
  return (
    e instanceof Error &&
    typeof (e as NodeJS.ErrnoException).code === 'string' &&
    /^E[A-Z]+$/.test((e as NodeJS.ErrnoException).code!)
  );
}
