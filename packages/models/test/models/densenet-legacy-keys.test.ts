// torchvision's old DenseNet key names (`norm.1`, `conv.2`) renamed as its own loader renames them.
import { describe, expect, test } from 'vitest';
import { remapLegacyDenseNetKeys } from '../../src/models/densenet/legacy-keys.js';

describe('remapLegacyDenseNetKeys', () => {
  test('renames old dense-layer names in order and keeps the values', () => {
    const norm = { v: 1 };
    const conv = { v: 2 };
    const bias = { v: 3 };
    const sd = new Map([
      ['features.denseblock1.denselayer1.norm.1.weight', norm],
      ['features.denseblock1.denselayer1.conv.2.weight', conv],
      ['features.norm5.bias', bias],
    ]);
    const remapped = remapLegacyDenseNetKeys(sd);
    expect([...remapped.keys()]).toEqual([
      'features.denseblock1.denselayer1.norm1.weight',
      'features.denseblock1.denselayer1.conv2.weight',
      'features.norm5.bias',
    ]);
    expect(remapped.get('features.denseblock1.denselayer1.conv2.weight')).toBe(conv);
    expect(remapped.get('features.norm5.bias')).toBe(bias);
  });

  test('covers every kind of key the regex names', () => {
    const keys = [
      'features.denseblock4.denselayer16.norm.2.running_var',
      'features.denseblock2.denselayer12.conv.1.weight',
      'features.denseblock1.denselayer1.relu.1.bias',
      'features.denseblock1.denselayer1.norm.3.weight', // only .1 and .2 are layer indices
      'features.transition1.norm.weight',
      'features.denseblock1.denselayer1.norm.1.num_batches_tracked', // not in torchvision's regex
    ];
    const out = [...remapLegacyDenseNetKeys(new Map(keys.map((k) => [k, 0]))).keys()];
    expect(out).toEqual([
      'features.denseblock4.denselayer16.norm2.running_var',
      'features.denseblock2.denselayer12.conv1.weight',
      'features.denseblock1.denselayer1.relu1.bias',
      'features.denseblock1.denselayer1.norm.3.weight',
      'features.transition1.norm.weight',
      'features.denseblock1.denselayer1.norm.1.num_batches_tracked',
    ]);
  });
});
