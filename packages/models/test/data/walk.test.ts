import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadFolderDataset, walkFiles } from '../../src/data/index.js';
import { pngBytes, put, tempDir } from './fixtures.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
function dir(): string {
  const t = tempDir('spine-walk-');
  cleanups.push(t.cleanup);
  return t.dir;
}
const png = { accept: (name: string) => name.endsWith('.png') };

describe('walkFiles', () => {
  it('follows symlinks to files and folders, in name order, and ends a loop with a problem', async () => {
    const d = dir();
    const elsewhere = dir();
    put(elsewhere, 'far.png', 'x');
    put(elsewhere, 'films/deep.png', 'x');
    put(d, 'b.png', 'x');
    put(d, 'notes.txt', 'x');
    mkdirSync(join(d, 'sub'));
    symlinkSync(join(elsewhere, 'far.png'), join(d, 'a-link.png'));
    symlinkSync(join(elsewhere, 'films'), join(d, 'sub', 'linked'));
    symlinkSync(d, join(d, 'sub', 'loop'));
    const r = await walkFiles(d, png);
    expect(r.files).toEqual([join(d, 'a-link.png'), join(d, 'b.png'), join(d, 'sub', 'linked', 'deep.png')]);
    expect(r.skipped).toEqual([join(d, 'notes.txt')]);
    expect(r.problems).toEqual([
      { path: join(d, 'sub', 'loop'), kind: 'folder', problem: expect.stringMatching(/a folder already walked/) },
    ]);
  });

  it("lists only the folder's own files, links to files included, when not recursive", async () => {
    const d = dir();
    const elsewhere = dir();
    put(elsewhere, 'far.png', 'x');
    put(d, 'b.png', 'x');
    put(d, 'sub/c.png', 'x');
    symlinkSync(join(elsewhere, 'far.png'), join(d, 'a.png'));
    const r = await walkFiles(d, { ...png, recursive: false });
    expect(r.files).toEqual([join(d, 'a.png'), join(d, 'b.png')]);
    expect(r.skipped).toEqual([join(d, 'sub')]);
  });

  it('reports a broken link and a self-referencing link among wanted names, skips unwanted ones', async () => {
    const d = dir();
    symlinkSync(join(d, 'gone.png'), join(d, 'broken.png'));
    symlinkSync(join(d, 'self.png'), join(d, 'self.png'));
    symlinkSync(join(d, 'gone.txt'), join(d, 'broken.txt'));
    const r = await walkFiles(d, png);
    expect(r.files).toEqual([]);
    expect(r.skipped).toEqual([join(d, 'broken.txt')]);
    expect(r.problems).toEqual([
      { path: join(d, 'broken.png'), kind: 'file', problem: 'symlink points to a missing file' },
      { path: join(d, 'self.png'), kind: 'file', problem: expect.stringMatching(/^symlink loop/) },
    ]);
  });

  it("is the folder dataset's walk: a symlinked subfolder inside the data folder is followed, a loop is a problem", async () => {
    const d = dir();
    put(d, 'female/a.png', pngBytes(4, 4));
    put(d, 'shared/b.png', pngBytes(4, 4, 1));
    put(d, 'male/c.png', pngBytes(4, 4, 2));
    symlinkSync(join(d, 'shared'), join(d, 'female', 'more'));
    const ds = await loadFolderDataset(d);
    expect(ds.records.map((r) => r.file).sort()).toEqual(['female/a.png', 'female/more/b.png', 'male/c.png']);
    symlinkSync(join(d, 'male'), join(d, 'male', 'again'));
    await expect(loadFolderDataset(d)).rejects.toThrow(/male\/again: leads to .*a folder already walked/);
  });
});
