/**
 * The one folder walk: class folders of a dataset and the folders given to predict and explain are
 * listed by it, so a symlink means the same everywhere. Links are followed, to files and to folders;
 * a folder reached a second time (a link back to an ancestor, or a second link to one folder) is
 * not walked again, so a loop ends. Nothing is dropped without a word: a broken link, a loop and an
 * unreadable folder come back as problems, files the caller does not want as `skipped`.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';

export interface WalkOptions {
  /** Whether a file is wanted, by its name as listed in its folder (a symlink's own name). */
  accept(name: string): boolean;
  /** Skip entries whose name starts with '.' (listed in `skipped`) instead of walking them. */
  skipHidden?: boolean;
  /** Walk subfolders (default); false lists only `dir`'s own files, its subfolders in `skipped`. */
  recursive?: boolean;
}

export interface WalkProblem {
  path: string;
  /** 'file': an entry that would have been listed; 'folder': a folder that was not walked. */
  kind: 'file' | 'folder';
  problem: string;
}

export interface WalkResult {
  /** Wanted files, depth first, each folder's entries sorted by name. */
  files: string[];
  /** Entries left out on purpose: names not accepted, hidden entries, subfolders when not recursive. */
  skipped: string[];
  problems: WalkProblem[];
}

/** Walks `dir` recursively; an unreadable `dir` itself rejects with the file system's error. */
export async function walkFiles(dir: string, options: WalkOptions): Promise<WalkResult> {
  const result: WalkResult = { files: [], skipped: [], problems: [] };
  await walkFolder(dir, await fs.realpath(dir), options, new Set(), result);
  return result;
}

async function walkFolder(dir: string, real: string, o: WalkOptions, seen: Set<string>, r: WalkResult): Promise<void> {
  seen.add(real);
  const entries = (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  for (const e of entries) {
    const path = join(dir, e.name);
    if (o.skipHidden && e.name.startsWith('.')) {
      r.skipped.push(path);
      continue;
    }
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      const target = await fs.stat(path).catch((err: NodeJS.ErrnoException) => err);
      if (target instanceof Error) {
        if (o.accept(e.name)) r.problems.push({ path, kind: 'file', problem: brokenLink(target) });
        else r.skipped.push(path);
        continue;
      }
      isDir = target.isDirectory();
      isFile = target.isFile();
    }
    if (isDir && o.recursive === false) {
      r.skipped.push(path);
    } else if (isDir) {
      const realDir = await fs.realpath(path).catch(() => path);
      if (seen.has(realDir)) {
        r.problems.push({
          path,
          kind: 'folder',
          problem: `leads to ${realDir}, a folder already walked (a symlink loop or a second link to it); not walked again`,
        });
        continue;
      }
      try {
        await walkFolder(path, realDir, o, seen, r);
      } catch (err) {
        r.problems.push({ path, kind: 'folder', problem: `cannot read the folder (${systemReason(err)})` });
      }
    } else if (!o.accept(e.name)) {
      r.skipped.push(path);
    } else if (isFile) {
      r.files.push(path);
    } else {
      r.problems.push({ path, kind: 'file', problem: 'not a regular file' });
    }
  }
}

function brokenLink(e: NodeJS.ErrnoException): string {
  if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return 'symlink points to a missing file';
  if (e.code === 'ELOOP') return 'symlink loop (the link leads back to itself)';
  return `cannot follow the symlink (${systemReason(e)})`;
}

function systemReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'EACCES' || code === 'EPERM'
    ? 'permission denied'
    : code === 'ENOENT'
      ? 'no longer exists'
      : (e as Error).message;
}
