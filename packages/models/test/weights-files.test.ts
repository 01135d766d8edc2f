// Import, inspect and convert on checkpoints really written by torch.save (fixtures/weights, made by
// scripts/make-weights-files.py with torchvision's own DenseNet class at a tiny size).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { convertToSafetensors, inspectWeightsFile, isWeightsError, readWeightsFile } from '../src/weights/index.js';

const fixtures = new URL('../fixtures/weights/', import.meta.url).pathname;
const fx = (name: string) => join(fixtures, name);
const expected = JSON.parse(readFileSync(fx('expected.json'), 'utf8')) as {
  tensors: Record<string, { dtype: string; shape: number[]; data: number[] }>;
  parameterCount: number;
};
const keys = Object.keys(expected.tensors);
const tmp = mkdtempSync(join(tmpdir(), 'spine-weights-files-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function expectTensorsAsTorch(
  tensors: Map<string, { shape: number[]; data: ArrayLike<number | bigint> }>,
  skip: (k: string) => boolean = () => false,
) {
  const want = keys.filter((k) => !skip(k));
  expect([...tensors.keys()]).toEqual(want);
  for (const k of want) {
    const t = tensors.get(k)!;
    expect(t.shape, k).toEqual(expected.tensors[k]!.shape);
    expect(Array.from(t.data, Number), k).toEqual(expected.tensors[k]!.data.map((v) => Math.fround(v)));
  }
}

describe('reading torch.save files', () => {
  it('zip format, current names: every key, shape and value as torch.load reads them', async () => {
    const f = await readWeightsFile(fx('tiny.zip.pth'));
    expect(f.format).toBe('torch-zip');
    expect(f.renamedKeys).toBe(0);
    expectTensorsAsTorch(f.tensors);
    expect(f.tensors.get('features.norm0.num_batches_tracked')!.dtype).toBe('I64');
  });

  it('legacy format with 2017 torchvision names (norm.1, conv.2): renamed to the current keys', async () => {
    const f = await readWeightsFile(fx('tiny-legacy-names.legacy.pth'));
    expect(f.format).toBe('torch-legacy');
    // 3 dense layers x (norm1: 4 tensors, conv1, norm2: 4, conv2) = 30 renamed keys.
    expect(f.renamedKeys).toBe(30);
    expectTensorsAsTorch(f.tensors, (k) => k.endsWith('num_batches_tracked'));
  });

  it("a training script's dict with the state dict under 'state_dict'", async () => {
    expectTensorsAsTorch((await readWeightsFile(fx('tiny-wrapped.zip.pth'))).tensors);
  });

  it('refuses a pickle global outside the allow-list (argparse.Namespace) and names it', async () => {
    const e = await readWeightsFile(fx('tiny-with-args.zip.pth')).catch((x: unknown) => x);
    expect(isWeightsError(e)).toBe(true);
    expect((e as Error).message).toContain(fx('tiny-with-args.zip.pth'));
    expect((e as Error).message).toMatch(/refusing pickle global 'argparse.Namespace'.*nothing was executed/);
  });

  it('a file that is no checkpoint, and a missing file, are clear errors', async () => {
    const junk = join(tmp, 'junk.pth');
    writeFileSync(junk, 'not weights at all\n');
    await expect(readWeightsFile(junk)).rejects.toThrow(
      `${junk}: not a weights file (neither a PyTorch checkpoint, zip or legacy, nor safetensors)`,
    );
    await expect(readWeightsFile(join(tmp, 'absent.pth'))).rejects.toThrow(/absent\.pth: no such file/);
  });

  it('a truncated .safetensors is reported as truncated, naming the file once', async () => {
    const whole = join(tmp, 'whole.safetensors');
    await convertToSafetensors(fx('tiny.zip.pth'), whole);
    const cut = join(tmp, 'cut.safetensors');
    writeFileSync(cut, readFileSync(whole).subarray(0, 40));
    for (const read of [readWeightsFile, inspectWeightsFile]) {
      const e = (await read(cut).then(
        () => undefined,
        (x: unknown) => x,
      )) as Error;
      expect(isWeightsError(e)).toBe(true);
      expect(e.message).toMatch(/truncated/);
      expect(e.message.split(cut)).toHaveLength(2);
    }
  });
});

describe('convert and inspect', () => {
  it('converts the legacy file to safetensors with current names, F32 data, I64 counters, provenance metadata', async () => {
    const out = join(tmp, 'tiny.safetensors');
    const r = await convertToSafetensors(fx('tiny-legacy-names.legacy.pth'), out, { metadata: { arch: 'tiny' } });
    expect(r).toMatchObject({ sourceFormat: 'torch-legacy', renamedKeys: 30, parameterCount: expected.parameterCount });
    const back = await readWeightsFile(out);
    expect(back.format).toBe('safetensors');
    expect(back.metadata).toMatchObject({
      format: 'pt',
      source: 'tiny-legacy-names.legacy.pth',
      source_format: 'torch-legacy',
      renamed_legacy_keys: '30',
      arch: 'tiny',
    });
    expectTensorsAsTorch(back.tensors, (k) => k.endsWith('num_batches_tracked'));
    // A wrong expected parameter count writes nothing.
    const refused = join(tmp, 'refused.safetensors');
    await expect(convertToSafetensors(fx('tiny.zip.pth'), refused, { expectParameters: 7_978_856 })).rejects.toThrow(
      /holds [\d,]+ parameters, expected 7,978,856/,
    );
    expect(() => readFileSync(refused)).toThrow();
  });

  it('inspect lists keys, shapes, dtypes and counts parameters apart from BatchNorm statistics, for .pth and .safetensors', async () => {
    const pth = await inspectWeightsFile(fx('tiny.zip.pth'));
    expect(pth.tensors.map((t) => t.key)).toEqual(keys);
    expect(pth.parameterCount).toBe(expected.parameterCount);
    const conv0 = pth.tensors.find((t) => t.key === 'features.conv0.weight')!;
    expect(conv0).toEqual({ key: 'features.conv0.weight', dtype: 'F32', shape: [8, 3, 7, 7], numel: 8 * 3 * 49 });
    const bn = keys
      .filter((k) => /running_(mean|var)$/.test(k))
      .reduce((s, k) => s + expected.tensors[k]!.data.length, 0);
    expect(pth.bufferCount).toBe(bn + keys.filter((k) => k.endsWith('num_batches_tracked')).length);
    const out = join(tmp, 'inspect.safetensors');
    await convertToSafetensors(fx('tiny.zip.pth'), out);
    const st = await inspectWeightsFile(out);
    expect(st.format).toBe('safetensors');
    expect(st.tensors).toEqual(pth.tensors);
    expect(st.parameterCount).toBe(pth.parameterCount);
  });
});
