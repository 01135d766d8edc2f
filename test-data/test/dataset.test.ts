import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '@spine/imaging';
import { generateDataset, LABELS_HEADER } from '../src/index.js';

describe('generateDataset', () => {
  it('writes PNGs, labels.csv and rois.json; a rerun is byte-identical and leaves no temp files', async () => {
    const a = mkdtempSync(join(tmpdir(), 'synth-a-'));
    const b = mkdtempSync(join(tmpdir(), 'synth-b-'));
    const opts = { region: 'lumbar' as const, count: 4, seed: 42, width: 96 };
    const rows = await generateDataset({ ...opts, outDir: a });
    await generateDataset({ ...opts, outDir: b });
    await generateDataset({ ...opts, outDir: b }); // rerun over existing files
    const files = readdirSync(a).sort();
    expect(files).toEqual(readdirSync(b).sort());
    expect(files.filter((f) => f.includes('.tmp'))).toEqual([]);
    for (const f of files) expect(readFileSync(join(a, f)).equals(readFileSync(join(b, f)))).toBe(true);
    const csv = readFileSync(join(a, 'labels.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe(LABELS_HEADER);
    expect(csv.slice(1).map((l) => l.split(',')[1])).toEqual(['F', 'M', 'F', 'M']);
    const rois = JSON.parse(readFileSync(join(a, 'rois.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(rois)).toEqual(rows.map((r) => r.file));
    const img = decodeImage(readFileSync(join(a, rows[0]!.file)));
    expect([img.width, img.channels, img.bitDepth]).toEqual([96, 1, 8]);
  });

  it('rejects a bad count', async () => {
    await expect(generateDataset({ region: 'cervical', count: 0, seed: 1, outDir: tmpdir() })).rejects.toThrow(/count/);
  });
});
