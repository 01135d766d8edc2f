// train with a DenseNet: a tiny run (DenseNet-121 at 32 px, random init, 1 epoch on 12 films), then
// evaluate and predict from it; a second run fine-tuned from the first's weights with frozen
// features; the paper-densenet presets; --weights errors.
import { inputTransform } from '@spine/models/run';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensorsFile } from '@spine/nn/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRESETS, presetConfig } from '../src/run/config.js';
import { repoRoot, runCli } from './run-cli.js';

const sample = join(repoRoot, 'test-data/sample/cervical');
const dir = mkdtempSync(join(tmpdir(), 'spine-cli-densenet-'));
const data = join(dir, 'data');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 16 films, 8 of each sex: the split (0.8/0.1/0.1) gives 12 train, 2 val, 2 test. */
beforeAll(() => {
  mkdirSync(data);
  const [header, ...rows] = readFileSync(join(sample, 'labels.csv'), 'utf8').trim().split('\n');
  const pick = [
    ...rows.filter((r) => r.split(',')[1] === 'F').slice(0, 8),
    ...rows.filter((r) => r.split(',')[1] === 'M').slice(0, 8),
  ];
  writeFileSync(join(data, 'labels.csv'), [header, ...pick].join('\n') + '\n');
  for (const row of pick) copyFileSync(join(sample, row.split(',')[0]!), join(data, row.split(',')[0]!));
});

const tiny = ['--data', data, '--input-size', '32', '--epochs', '1', '--workers', '0', '--cache', join(dir, 'cache')];
const lastCheckpoint = (run: string) =>
  join(run, 'checkpoints', readdirSync(join(run, 'checkpoints')).find((f) => /^last-.*\.safetensors$/.test(f))!);

describe('train --model densenet121', () => {
  it('trains a run (paper-densenet-cervical settings at 32 px), evaluates and predicts from it; a second run fine-tunes from its weights with frozen features', async () => {
    const run = join(dir, 'run1');
    const r = await runCli(['train', '--model', 'densenet121', '--weights', 'none', ...tiny, '--out', run]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      'model: densenet121, 32 px (shorter side scaled, centre crop), weights none, classifier lr x1',
    );
    expect(r.stderr).toMatch(
      /Training .*: preset paper-densenet-cervical, 12 train \/ 2 val \/ 2 test films at 32 px, 1 epochs, batch 4, lr 0\.001/,
    );
    const record = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
    expect(record.config.model).toEqual({
      kind: 'densenet',
      arch: 'densenet121',
      inputSize: 32,
      numClasses: 2,
      dropRate: 0,
      memoryEfficient: false,
      weights: 'none',
      freezeFeaturesEpochs: 0,
      resize: 'shorter-side-crop',
    });
    expect(record.config).toMatchObject({
      batchSize: 4,
      lr: 0.001,
      momentum: 0.9,
      scheduler: { milestones: [20, 40], gamma: 0.1 },
    });
    expect(record.pretrained).toBeNull();
    expect(JSON.parse(readFileSync(join(run, 'eval', 'test-best.json'), 'utf8')).n).toBe(2);

    const ev = await runCli([
      'evaluate',
      '--run',
      run,
      '--split',
      'train',
      '--checkpoint',
      'last',
      '--workers',
      '0',
      '--cache',
      join(dir, 'cache'),
      '--json',
    ]);
    expect(ev.code).toBe(0);
    expect(JSON.parse(ev.stdout)).toMatchObject({ n: 12, split: 'train', checkpoint: 'last' });

    const pr = await runCli(['predict', '--run', run, data, '--checkpoint', 'last']);
    expect(pr.code).toBe(0);
    const rows = pr.stdout.trim().split('\n');
    expect(rows[0]).toBe('file,predicted_sex,probability_male,uncertain,recorded_sex,recorded_age,agrees,error');
    expect(rows).toHaveLength(17);
    expect(rows.slice(1).every((l) => /,[FM],0\.\d{6},(yes|no),,,,$/.test(l))).toBe(true);

    // Fine-tune from run1's checkpoint: every weight but the classifier comes from it; with the
    // features frozen for the one epoch, its conv weights come out unchanged and the head moves.
    const run2 = join(dir, 'run2');
    const from = lastCheckpoint(run);
    const r2 = await runCli([
      'train',
      '--model',
      'densenet121',
      '--weights',
      from,
      '--freeze-features',
      '1',
      '--classifier-lr-factor',
      '10',
      ...tiny,
      '--out',
      run2,
    ]);
    expect(r2.code).toBe(0);
    expect(r2.stderr).toMatch(
      new RegExp(
        `weights: ${from.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: \\d+ tensors loaded, classifier\\.weight and classifier\\.bias replaced by a new Linear\\(1024, 2\\)`,
      ),
    );
    expect(r2.stderr).toContain('features frozen for epochs 1-1: training the classifier only');
    expect(JSON.parse(readFileSync(join(run2, 'config.json'), 'utf8')).pretrained).toEqual({ file: from, label: from });
    const values = async (file: string) =>
      new Map([...(await readSafetensorsFile(file)).tensors].map(([k, t]) => [k, Array.from(t.data as Float32Array)]));
    const a = await values(from);
    const b = await values(lastCheckpoint(run2));
    for (const key of [
      'model.features.conv0.weight',
      'model.features.denseblock4.denselayer16.conv2.weight',
      'model.features.norm5.weight',
    ]) {
      expect(b.get(key), key).toEqual(a.get(key));
    }
    expect(b.get('model.classifier.weight')).not.toEqual(a.get('model.classifier.weight'));
  });

  it('--weights imagenet with an empty cache says how to fetch; a file for another network is refused by key; DenseNet-only flags', async () => {
    const out = join(dir, 'never');
    const empty = await runCli([
      'train',
      '--model',
      'densenet121',
      '--weights-cache',
      join(dir, 'empty-cache'),
      ...tiny,
      '--out',
      out,
    ]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain(
      `error: the ImageNet weights of densenet121 are not in the weights cache (${join(dir, 'empty-cache', 'weights', 'densenet121-a639ec97.safetensors')})`,
    );
    expect(empty.stderr).toContain('Fetch them once with: spine-cli weights fetch densenet121');
    expect(existsSync(out)).toBe(false);

    const tinyFile = join(repoRoot, 'packages/models/fixtures/weights/tiny.zip.pth');
    const wrong = await runCli([
      'train',
      '--model',
      'densenet121',
      '--weights',
      tinyFile,
      ...tiny,
      '--out',
      join(dir, 'wrong'),
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(
      /tiny\.zip\.pth does not fit this network: .*features\.denseblock1\.denselayer2\.norm1\.weight/,
    );
    expect(wrong.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, 'wrong'))).toBe(false);

    const cases: [string[], RegExp][] = [
      [['train', '--weights', 'none'], /--weights is for a DenseNet/],
      [['train', '--preset', 'quick', '--freeze-features', '2'], /--freeze-features is for a DenseNet/],
      [
        ['train', '--model', 'densenet121', '--hidden', '8'],
        /--hidden sets the sequential CNN's FC widths; densenet121 has one Linear classifier/,
      ],
      [['train', '--model', 'densenet121', '--input-size', '16'], /--input-size must be an integer from 32 to 1024/],
      [['train', '--model', 'resnet50'], /--model must be one of seqcnn, densenet121, densenet169, densenet201/],
    ];
    for (const [args, message] of cases) {
      const res = await runCli(args);
      expect(res.stderr, args.join(' ')).toMatch(message);
      expect(res.code, args.join(' ')).toBe(2);
    }
  });
});

describe('paper-densenet presets', () => {
  it("are the paper's Approach II on the bundled sample of their region, with ImageNet preprocessing", () => {
    expect(PRESETS).toEqual(expect.arrayContaining(['paper-densenet-cervical', 'paper-densenet-lumbar']));
    for (const region of ['cervical', 'lumbar'] as const) {
      const c = presetConfig(`paper-densenet-${region}`);
      expect(c.data.root.endsWith(join('sample', region))).toBe(true);
      expect(existsSync(join(c.data.root, 'labels.csv'))).toBe(true);
      expect(c).toMatchObject({
        epochs: 60,
        batchSize: 4,
        lr: 0.001,
        momentum: 0.9,
        classifierLrFactor: 1,
        augment: false,
        scheduler: { type: 'multistep', milestones: [20, 40], gamma: 0.1 },
      });
      expect(c.model).toMatchObject({
        kind: 'densenet',
        arch: 'densenet121',
        inputSize: 224,
        numClasses: 2,
        weights: 'imagenet',
      });
      expect(inputTransform(c.model)).toEqual({ width: 224, height: 224, resize: 'shorter-side-crop' });
    }
    // The sequential CNN's presets keep a config without `kind` (old config.json files look the same) and stretch.
    const quick = presetConfig('quick');
    expect('kind' in quick.model).toBe(false);
    expect(inputTransform(quick.model).resize).toBe('stretch');
  });
});
