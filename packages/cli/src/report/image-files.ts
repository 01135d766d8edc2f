/** Image files named on the command line or found in folders, for predict and explain. */
import { promises as fs } from 'node:fs';
import { extname, isAbsolute, join, relative, resolve } from 'node:path';
import { CliError } from '../ui/errors.js';

/** Looked for inside folders; a file named on the command line is tried whatever its name. */
export const IMAGE_EXTENSIONS = new Set(['.png', '.tif', '.tiff', '.jpg', '.jpeg', '.dcm', '.dicom']);

/** Files named, and image files under folders named (recursively, sorted); a missing path is an error. */
export async function collectImageFiles(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const abs = resolve(p);
    const st = await fs.stat(abs).catch(() => undefined);
    if (!st) throw new CliError(`${abs} does not exist`, 'Name image files or folders that exist.');
    if (st.isDirectory()) out.push(...(await walkImages(abs)));
    else out.push(abs);
  }
  return out;
}

/** Image files under dir, recursively, in a stable (sorted) order. */
export async function walkImages(dir: string): Promise<string[]> {
  const entries = (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walkImages(path)));
    else if (e.isFile() && IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase())) out.push(path);
  }
  return out;
}

/** A path as users should see it: relative to `base` when below it, else absolute. */
export function displayPath(path: string, base = process.cwd()): string {
  const rel = relative(base, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
