// The checkpoint reader against files written by torch.save (scripts/make-torch-files.py): every
// key's dtype, shape and values must match what torch.load returned for the same file.
import { existsSync } from 'node:fs';
import { unzipSync, zipSync } from 'fflate';
import { describe, expect, test } from 'vitest';
import { isSerializationError, readTorchCheckpoint, SerializationError } from '../../src/serialization/index.js';
import { readTorchCheckpointFile } from '../../src/serialization/node.js';
import { dtypeOfTorch, expectedFor, expectedValues, fixtureBytes, fixturePath, valuesOf } from './helpers.js';

const FILES = [
  'small.zip.pth',
  'small.legacy.pth',
  'small.proto4.zip.pth',
  'dtypes.zip.pth',
  'dtypes.legacy.pth',
  'views.zip.pth',
  'views.legacy.pth',
  'storage-view.legacy.pth',
  'wrapped.zip.pth',
  'densenet-legacy-names.zip.pth',
];

describe('readTorchCheckpointFile matches torch.load', () => {
  for (const name of FILES) {
    test(name, async () => {
      const expected = expectedFor(name);
      const got = await readTorchCheckpointFile(fixturePath(name), { int64: 'bigint' });
      expect([...got.keys()]).toEqual([...expected.keys()]);
      for (const [key, e] of expected) {
        const t = got.get(key)!;
        expect({ key, dtype: t.dtype, shape: t.shape }).toEqual({ key, dtype: dtypeOfTorch(e.dtype), shape: e.shape });
        const isI64 = e.dtype === 'int64';
        expect(t.data).toBeInstanceOf(
          isI64 ? BigInt64Array : e.dtype.startsWith('float') || e.dtype === 'bfloat16' ? Float32Array : Int32Array,
        );
        // Exact: f32 values are stored in the JSON as the doubles they widen to.
        expect(valuesOf(t), key).toEqual(expectedValues(e, isI64));
      }
    });
  }
});

describe('checkpoint contents', () => {
  test('int64 comes back as range-checked Int32Array by default', () => {
    const sd = readTorchCheckpoint(fixtureBytes('small.zip.pth'));
    const nbt = sd.get('bn.num_batches_tracked')!;
    expect(nbt).toEqual({ dtype: 'I64', shape: [], data: new Int32Array([2]) });
    const i64 = readTorchCheckpoint(fixtureBytes('dtypes.zip.pth')).get('i64')!;
    expect(Array.from(i64.data as Int32Array)).toEqual([0, -1, 2 ** 31 - 1, -(2 ** 31), 7, 42]);
  });

  test('zip and legacy files of the same state dict read identically', async () => {
    for (const stem of ['small', 'dtypes', 'views']) {
      const zip = await readTorchCheckpointFile(fixturePath(`${stem}.zip.pth`));
      const legacy = await readTorchCheckpointFile(fixturePath(`${stem}.legacy.pth`));
      expect(legacy).toEqual(zip);
    }
  });

  test('views sharing one storage are separate, contiguous arrays', () => {
    const sd = readTorchCheckpoint(fixtureBytes('views.zip.pth'));
    const t = sd.get('transposed')!;
    const rows = sd.get('rows_1_3')!;
    expect(t.shape).toEqual([6, 4]);
    expect(t.data.length).toBe(24);
    // Row 1 of the base is column 1 of its transpose.
    const col1 = Array.from({ length: 6 }, (_, i) => (t.data as Float32Array)[i * 4 + 1]);
    expect(Array.from((rows.data as Float32Array).subarray(0, 6))).toEqual(col1);
    expect(rows.data.buffer).not.toBe(t.data.buffer);
  });

  test('a {state_dict: ...} wrapper is unwrapped; other entries are ignored', async () => {
    expect(await readTorchCheckpointFile(fixturePath('wrapped.zip.pth'))).toEqual(
      await readTorchCheckpointFile(fixturePath('small.zip.pth')),
    );
  });

  test("a {model: ..., optimizer: ...} checkpoint gives the dict under 'model'", async () => {
    expect(await readTorchCheckpointFile(fixturePath('wrapped-model.legacy.pth'))).toEqual(
      await readTorchCheckpointFile(fixturePath('small.zip.pth')),
    );
  });

  test("old DenseNet names (norm.1) are read as stored; renaming them is the model's concern", () => {
    const sd = readTorchCheckpoint(fixtureBytes('densenet-legacy-names.zip.pth'));
    expect([...sd.keys()]).toEqual([
      'features.denseblock1.denselayer1.norm.1.weight',
      'features.denseblock1.denselayer1.conv.2.weight',
      'features.norm5.bias',
    ]);
  });
});

describe('archives torch 1.13 does not write', () => {
  test('big-endian storages (byteorder record, torch >= 2.1) in a re-compressed zip read the same', () => {
    // Repack small.zip.pth: storages byte-swapped, a 'byteorder' record saying big, and deflate
    // instead of torch's stored entries (as a zip tool re-saving the file would do).
    const entries = unzipSync(fixtureBytes('small.zip.pth'));
    const sizes: Record<string, number> = { 'small.zip/data/6': 8 }; // num_batches_tracked: int64
    for (const [name, data] of Object.entries(entries)) {
      if (!name.startsWith('small.zip/data/')) continue;
      const size = sizes[name] ?? 4;
      for (let i = 0; i < data.length; i += size) data.subarray(i, i + size).reverse();
    }
    const repacked = zipSync({ ...entries, 'small.zip/byteorder': new TextEncoder().encode('big') }, { level: 6 });
    expect(readTorchCheckpoint(repacked)).toEqual(readTorchCheckpoint(fixtureBytes('small.zip.pth')));
  });
});

describe('refusals', () => {
  test('a pickle calling os.system is refused by name and nothing runs', async () => {
    const marker = '/tmp/spine-pwned';
    const before = existsSync(marker);
    const err = await readTorchCheckpointFile(fixturePath('malicious.zip.pth')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SerializationError);
    // os.system pickles as posix.system on Linux.
    expect((err as Error).message).toMatch(/refusing pickle global 'posix\.system'.*nothing was executed/);
    expect(existsSync(marker)).toBe(before);
  });

  test('a legacy file calling builtins.eval is refused by name', () => {
    expect(() => readTorchCheckpoint(fixtureBytes('malicious.legacy.pth'), { file: 'm.pth' })).toThrow(
      "m.pth: refusing pickle global 'builtins.eval'",
    );
  });

  test('a renamed global in an otherwise valid zip is refused', () => {
    const bytes = fixtureBytes('small.zip.pth');
    const at = Buffer.from(bytes).indexOf('collections\nOrderedDict');
    bytes.set(Buffer.from('collections\nOrderedDicX'), at);
    expect(() => readTorchCheckpoint(bytes)).toThrow("refusing pickle global 'collections.OrderedDicX'");
  });

  test('int64 values outside int32 fail in int32 mode, naming the key', () => {
    const bytes = fixtureBytes('dtypes.zip.pth');
    // i64 holds 2^31 - 1: bump its storage's little-endian bytes to 2^31 in place.
    const sd = readTorchCheckpoint(bytes, { int64: 'bigint' });
    expect((sd.get('i64')!.data as BigInt64Array)[2]).toBe(2147483647n);
    const needle = Buffer.from(new BigInt64Array([0n, -1n, 2147483647n]).buffer);
    const at = Buffer.from(bytes).indexOf(needle);
    expect(at).toBeGreaterThan(0);
    bytes.set(new Uint8Array(new BigInt64Array([2147483648n]).buffer), at + 16);
    expect(() => readTorchCheckpoint(bytes, { file: 'x.pth' })).toThrow(
      /x\.pth: tensor 'i64': int64 value 2147483648 at index 2 does not fit in int32/,
    );
  });
});

describe('truncated and corrupt files give a SerializationError', () => {
  const cases: Array<[string, string, (b: Uint8Array) => Uint8Array, RegExp]> = [
    [
      'zip cut in half',
      'small.zip.pth',
      (b) => b.subarray(0, b.length >> 1),
      /not a readable zip archive|missing|truncated/,
    ],
    ['zip without its end record', 'small.zip.pth', (b) => b.subarray(0, b.length - 30), /not a readable zip archive/],
    [
      'legacy cut inside a storage',
      'small.legacy.pth',
      (b) => b.subarray(0, b.length - 4),
      /truncated: storage \S+ needs/,
    ],
    [
      'legacy cut inside the object pickle',
      'small.legacy.pth',
      (b) => b.subarray(0, 300),
      /pickle at byte \d+: truncated/,
    ],
    ['empty file', 'small.zip.pth', () => new Uint8Array(0), /not a PyTorch checkpoint/],
    [
      'random bytes',
      'small.zip.pth',
      () => new Uint8Array(64).map((_, i) => (i * 37) & 255),
      /not a PyTorch checkpoint/,
    ],
    [
      'safetensors given as .pth',
      'small.zip.pth',
      () => new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]),
      /not a PyTorch checkpoint/,
    ],
  ];
  for (const [what, name, mangle, message] of cases) {
    test(what, () => {
      let err: unknown;
      try {
        readTorchCheckpoint(mangle(fixtureBytes(name)), { file: name });
      } catch (e) {
        err = e;
      }
      expect(isSerializationError(err), String(err)).toBe(true);
      expect((err as SerializationError).file).toBe(name);
      expect((err as Error).message).toMatch(message);
    });
  }

  test('a storage entry shorter than its tensor names the tensor', () => {
    // Shrink the view's numel in the persistent id: the stored tensor then reaches past it.
    const bytes = fixtureBytes('densenet-legacy-names.zip.pth');
    const pkl = Buffer.from(bytes);
    // ('storage', FloatStorage, '1', 'cpu', 8): 'cpu' is followed by BINPUT n, BININT1 8.
    const at = pkl.indexOf(Buffer.from([0x68, 0x07, 0x4b, 0x08, 0x74])); // BINGET 7 ('cpu'), BININT1 8, TUPLE
    expect(at).toBeGreaterThan(0);
    bytes[at + 3] = 4;
    expect(() => readTorchCheckpoint(bytes)).toThrow(
      /tensor 'features\.denseblock1\.denselayer1\.conv\.2\.weight': view .* reaches past the end of its 4-element storage 1/,
    );
  });
});
