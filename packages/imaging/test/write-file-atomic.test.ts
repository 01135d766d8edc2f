// The one durable atomic write every package uses: the file is fsynced before the rename and
// its folder after it, an existing file is replaced whole, and a failed write leaves nothing.
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { writeFileAtomic } from '../src/node.js';

const dir = () => mkdtempSync(join(tmpdir(), 'write-atomic-'));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('writeFileAtomic', () => {
  it('replaces an existing file, creates missing folders and leaves no temp file', async () => {
    const d = dir();
    const path = join(d, 'a', 'b', 'out.json');
    await writeFileAtomic(path, 'first');
    await writeFileAtomic(path, new Uint8Array([104, 105]));
    expect(readFileSync(path, 'utf8')).toBe('hi');
    expect(readdirSync(join(d, 'a', 'b'))).toEqual(['out.json']);
  });

  it('fsyncs the temp file and, after the rename, the folder', async () => {
    const d = dir();
    const probe = await open(join(d, 'probe'), 'w');
    const sync = vi.spyOn(Object.getPrototypeOf(probe) as { sync(): Promise<void> }, 'sync');
    await probe.close();
    await writeFileAtomic(join(d, 'out.bin'), new Uint8Array(1000));
    // One for the temp file, one for the folder (where the platform can open folders).
    expect(sync.mock.calls.length).toBe(process.platform === 'win32' ? 1 : 2);
  });

  it('a failed rename leaves the target alone and no temp file behind', async () => {
    const d = dir();
    const target = join(d, 'taken');
    mkdirSync(target);
    writeFileSync(join(target, 'inside'), 'x');
    await expect(writeFileAtomic(target, 'data')).rejects.toThrow();
    expect(readdirSync(d)).toEqual(['taken']);
    expect(readdirSync(target)).toEqual(['inside']);
  });
});
