import { isImagingError } from '@spine/imaging';

/**
 * Why a film could not be read, without its path: callers print the path once beside it (a CSV's
 * file column, `path: reason` on stderr). Imaging errors carry their reason apart from the path;
 * Node's system errors name the path inside their message, so they are put in words here.
 */
export function fileErrorReason(e: unknown): string {
  if (isImagingError(e)) return e.reason;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'file not found';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory, expected an image file';
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}
