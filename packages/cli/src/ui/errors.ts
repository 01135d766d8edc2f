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
  } else if (isDatasetError(e)) {
    // The message already lists every problem as "line N: file: problem".
    lines.push(`error: ${e.message}`);
  } else if (isSystemError(e)) {
    const what = SYSTEM_ERRORS[e.code] ?? e.code;
    lines.push(`error: cannot ${e.syscall ?? 'access'} ${e.path ?? ''}: ${what}`.replace(/ {2,}/g, ' '));
  } else if (e instanceof Error) {
    lines.push(`error: ${e.message}`);
    if (!debug) lines.push("This looks like a bug in spine-cli or a package it uses; rerun with --debug for the stack and report it.");
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
 * @spine/models' DatasetError, recognised the way its own isDatasetError does, without loading that
 * package (and the GPU stack behind it) for every --help.
 */
function isDatasetError(e: unknown): e is Error & { problems: unknown[] } {
  return e instanceof Error && e.name === 'DatasetError' && Array.isArray((e as { problems?: unknown }).problems);
}

function isSystemError(e: unknown): e is NodeJS.ErrnoException & { code: string } {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && /^E[A-Z]+$/.test((e as NodeJS.ErrnoException).code!);
}
