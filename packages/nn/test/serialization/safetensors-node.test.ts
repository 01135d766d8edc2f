// safetensors files through file handles: round trips, the writer's guarantees (no partial file,
// existing file untouched), and a >64 MB write/read that must not buffer the whole file.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, test } from 'vitest';
import { decodeSafetensors, encodeSafetensors, SerializationError } from '../../src/serialization/index.js';
import {
  readSafetensorsFile,
  SafetensorsFileReader,
  SafetensorsFileWriter,
  writeSafetensorsFile,
} from '../../src/serialization/node.js';

const dir = mkdtempSync(join(tmpdir(), 'spine-safetensors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const small = new Map([
  ['conv.weight', { shape: [2, 1, 2, 2], data: Float32Array.from({ length: 8 }, (_, i) => i * 0.25 - 1) }],
  ['bn.num_batches_tracked', { shape: [], data: new BigInt64Array([12n]) }],
  ['idx', { shape: [3], data: new Int32Array([3, 1, 2]) }],
]);

describe('files', () => {
  test('writeSafetensorsFile writes the same bytes as encodeSafetensors, and both readers agree', async () => {
    const path = join(dir, 'small.safetensors');
    await writeSafetensorsFile(path, small, { epoch: '1' });
    const bytes = new Uint8Array(readFileSync(path));
    expect(bytes).toEqual(encodeSafetensors(small, { epoch: '1' }));
    const fromFile = await readSafetensorsFile(path, { int64: 'bigint' });
    expect(fromFile).toEqual(decodeSafetensors(bytes, { int64: 'bigint' }));
    expect(fromFile.tensors.get('bn.num_batches_tracked')!.data).toEqual(new BigInt64Array([12n]));
    expect((await readSafetensorsFile(path)).tensors.get('bn.num_batches_tracked')!.data).toEqual(new Int32Array([12]));
  });

  test('decodeSafetensors reads a Node Buffer that sits inside a larger pool (readFileSync output)', () => {
    const encoded = encodeSafetensors(small);
    // A Buffer at an offset into shared memory: Buffer's own slice() would return a view of it.
    const pool = Buffer.alloc(encoded.byteLength + 24, 0x7f);
    pool.set(encoded, 16);
    const buffer = pool.subarray(16, 16 + encoded.byteLength);
    expect(decodeSafetensors(buffer, { int64: 'bigint' })).toEqual(
      decodeSafetensors(new Uint8Array(encoded), { int64: 'bigint' }),
    );
  });

  test('the reader reads tensors on demand, in any order', async () => {
    const path = join(dir, 'lazy.safetensors');
    await writeSafetensorsFile(path, small);
    const reader = await SafetensorsFileReader.open(path);
    try {
      expect(reader.keys()).toEqual([...small.keys()]);
      expect(reader.entry('idx')).toMatchObject({ dtype: 'I32', shape: [3] });
      expect((await reader.read('idx')).data).toEqual(new Int32Array([3, 1, 2]));
      expect((await reader.read('conv.weight')).data).toEqual(small.get('conv.weight')!.data);
      await expect(reader.read('nope')).rejects.toThrow("tensor 'nope': no such tensor in the file");
    } finally {
      await reader.close();
    }
  });

  test('the writer takes declared tensors in any order and refuses mistakes by key', async () => {
    const path = join(dir, 'declared.safetensors');
    const w = await SafetensorsFileWriter.create(path, [
      { name: 'a', dtype: 'F32', shape: [2] },
      { name: 'b', dtype: 'I32', shape: [1] },
    ]);
    await expect(w.write('c', new Float32Array(1))).rejects.toThrow("tensor 'c': was not declared");
    await expect(w.write('a', new Int32Array(2))).rejects.toThrow("tensor 'a': was declared F32 but the data are I32");
    await expect(w.write('a', new Float32Array(3))).rejects.toThrow("tensor 'a': has 3 values but shape [2] needs 2");
    await w.write('b', new Int32Array([9]));
    await w.write('a', new Float32Array([1, 2]));
    await w.close();
    const t = (await readSafetensorsFile(path)).tensors;
    expect([...t.keys()]).toEqual(['a', 'b']);
    expect(t.get('a')!.data).toEqual(new Float32Array([1, 2]));
  });

  test('a failed write leaves no partial file and keeps the existing one', async () => {
    const path = join(dir, 'keep.safetensors');
    writeFileSync(path, 'previous result');
    const w = await SafetensorsFileWriter.create(path, [
      { name: 'a', dtype: 'F32', shape: [2] },
      { name: 'b', dtype: 'F32', shape: [1] },
    ]);
    await w.write('a', new Float32Array(2));
    await expect(w.close()).rejects.toThrow(/tensor 'b': closed before 1 declared tensor\(s\) were written/);
    await expect(writeSafetensorsFile(path, { x: { shape: [2], data: new Float32Array(1) } })).rejects.toThrow(
      SerializationError,
    );
    expect(readFileSync(path, 'utf8')).toBe('previous result');
    expect(readdirSync(dir).filter((f) => f.startsWith('keep'))).toEqual(['keep.safetensors']);
  });

  test('a truncated file is refused when opened, naming the last tensor', async () => {
    const path = join(dir, 'cut.safetensors');
    writeFileSync(path, encodeSafetensors(small).subarray(0, -3));
    await expect(SafetensorsFileReader.open(path)).rejects.toThrow(
      `${path}: tensor 'idx': tensor data run 3 bytes past the end of the file`,
    );
    writeFileSync(path, new Uint8Array([200, 0, 0, 0, 0, 0, 0, 0, 123]));
    await expect(SafetensorsFileReader.open(path)).rejects.toThrow(
      /header length 200 runs past the end of the 9-byte file/,
    );
  });
});

// V8 collects large ArrayBuffers lazily; collecting before each sample makes the measured
// growth the memory still referenced, which is what "does not buffer the file" is about.
setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;
const liveBuffers = () => {
  gc();
  return process.memoryUsage().arrayBuffers;
};

describe('streaming a file larger than 64 MB', () => {
  const TENSORS = 20;
  const N = 1 << 20; // 4 MB of F32 each: 80 MB in all
  const value = (t: number, i: number) => (i % 1013) * 0.5 - t;

  test('write and read hold about one tensor at a time, not the file', async () => {
    const path = join(dir, 'big.safetensors');
    const specs = Array.from({ length: TENSORS }, (_, t) => ({
      name: `layer${t}.weight`,
      dtype: 'F32' as const,
      shape: [1024, 1024],
    }));
    const base = liveBuffers();
    let peak = 0;
    const w = await SafetensorsFileWriter.create(path, specs, { purpose: 'streaming test' });
    // One scratch array refilled per tensor, as a model exporting layer by layer would do.
    const scratch = new Float32Array(N);
    for (let t = 0; t < TENSORS; t++) {
      for (let i = 0; i < N; i++) scratch[i] = value(t, i);
      await w.write(specs[t]!.name, scratch);
      peak = Math.max(peak, liveBuffers() - base);
    }
    await w.close();
    // Only the caller's 4 MB scratch array is alive; an internal copy of the file would be 80 MB.
    // (The bound leaves room for a buffer or two that V8 has not released yet.)
    expect(peak).toBeLessThan(20 << 20);

    const reader = await SafetensorsFileReader.open(path);
    expect(reader.metadata).toEqual({ purpose: 'streaming test' });
    const readBase = liveBuffers();
    peak = 0;
    let bad = 0;
    for (let t = 0; t < TENSORS; t++) {
      const { data, shape } = await reader.read(`layer${t}.weight`);
      expect(shape).toEqual([1024, 1024]);
      for (let i = 0; i < N; i += 1) if (data[i] !== value(t, i)) bad++;
      peak = Math.max(peak, liveBuffers() - readBase);
    }
    await reader.close();
    expect(bad).toBe(0);
    // The tensor just read (4 MB, sometimes also its predecessor) is alive while sampled;
    // the whole file would be 80 MB.
    expect(peak).toBeLessThan(20 << 20);
    rmSync(path);
  });
});
