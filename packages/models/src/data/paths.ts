import { promises as fs } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * Resolves a labels-file path against the data root, or explains why it may not be used. Paths
 * must stay inside the root: a labels file from elsewhere must not make us read (or, through the
 * cache, copy) arbitrary files such as ../../etc/passwd. Backslashes count as separators so
 * labels written on Windows work here.
 */
export function resolveInside(root: string, file: string): { path: string; file: string } | { problem: string } {
  const name = file.replace(/\\/g, '/');
  if (name === '') return { problem: 'empty file name' };
  if (isAbsolute(name) || /^[A-Za-z]:\//.test(name)) {
    return { problem: 'absolute path; file names must be relative to the data folder' };
  }
  const path = resolve(root, name);
  const rel = relative(root, path);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    return { problem: 'path leaves the data folder (..)' };
  }
  return { path, file: rel.split(sep).join('/') };
}

/** True when `path` (already resolved) is `root` or lies below it. */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/**
 * Checks the file exists, is a regular file, and — following symlinks — still lies inside the
 * (real) root. Returns a problem sentence or undefined when fine.
 */
export async function checkFileInside(realRoot: string, path: string): Promise<string | undefined> {
  let real: string;
  try {
    real = await fs.realpath(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      const dangling = await fs.lstat(path).then(
        (s) => s.isSymbolicLink(),
        () => false,
      );
      return dangling ? 'symlink points to a missing file' : 'file not found';
    }
    return code === 'EACCES' ? 'permission denied' : `cannot open (${(e as Error).message})`;
  }
  if (!isInside(realRoot, real)) return `symlink points outside the data folder (to ${real})`;
  const stat = await fs.stat(real);
  if (stat.isDirectory()) return 'is a directory, expected an image file';
  if (!stat.isFile()) return 'not a regular file';
  return undefined;
}
