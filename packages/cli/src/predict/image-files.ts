/** Image files named on the command line or found in folders, for predict and explain. */
import { promises as fs } from 'node:fs';
import { extname, isAbsolute, relative, resolve } from 'node:path';
import { walkFiles, type WalkProblem } from '@spine/models/walk';
import { CliError } from '../ui/errors.js';

/** Looked for inside folders; a file named on the command line is tried whatever its name. */
export const IMAGE_EXTENSIONS = new Set(['.png', '.tif', '.tiff', '.jpg', '.jpeg', '.dcm', '.dicom']);

/**
 * What a command was given to read: the image files, and what the walk could not list (a broken
 * link among the films, a folder loop), each to be reported rather than dropped.
 */
export interface ImageInputs {
  files: string[];
  problems: WalkProblem[];
}

/** Files named, and image files under folders named (recursively, sorted); a missing path is an error. */
export async function collectImageFiles(paths: readonly string[]): Promise<ImageInputs> {
  const out: ImageInputs = { files: [], problems: [] };
  for (const p of paths) {
    const abs = resolve(p);
    const st = await fs.stat(abs).catch(() => undefined);
    if (!st) throw new CliError(`${abs} does not exist`, 'Name image files or folders that exist.');
    if (st.isDirectory()) {
      const found = await walkImages(abs);
      out.files.push(...found.files);
      out.problems.push(...found.problems);
    } else out.files.push(abs);
  }
  return out;
}

/** Image files under dir, recursively, symlinks followed as everywhere (@spine/models' walkFiles). */
export async function walkImages(dir: string): Promise<ImageInputs> {
  const { files, problems } = await walkFiles(dir, {
    accept: (name) => IMAGE_EXTENSIONS.has(extname(name).toLowerCase()),
  });
  return { files, problems };
}

/** A path as users should see it: relative to `base` when below it, else absolute. */
export function displayPath(path: string, base = process.cwd()): string {
  const rel = relative(base, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
