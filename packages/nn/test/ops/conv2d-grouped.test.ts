// Grouped and depthwise conv2d (Conv2d's `groups`) against PyTorch float64 goldens
// (fixtures/golden/grouped_conv.json) on both kernel families, through the module.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { Conv2d } from '../../src/index.js';
import { arrayOf, expectGolden, loadGolden, stateMap, toTensor, type GoldenArray } from '../helpers/golden.js';

const cases = loadGolden('grouped_conv');
const FAMILIES = ['cpu', 'gpu'] as const;

beforeAll(async () => {
  await T.ready();
  T.setPoisonOutputs(true);
});
afterAll(() => {
  T.setPoisonOutputs(false);
  T.setKernelFamily(null);
});

describe('Conv2d with groups against PyTorch (float64 goldens)', () => {
  for (const family of FAMILIES) {
    for (const c of cases) {
      it(`${family}: ${c.name as string}`, async () => {
        T.setKernelFamily(family);
        const w = arrayOf(c, 'w');
        const x = toTensor(arrayOf(c, 'x'), true);
        const groups = c.groups as number;
        const conv = new Conv2d(x.shape[1]!, w.shape[0]!, [w.shape[2]!, w.shape[3]!], { groups, stride: c.stride as number, padding: c.padding as number, dilation: c.dilation as number, bias: c.b !== undefined });
        const state: Record<string, GoldenArray> = { weight: w, ...(c.b ? { bias: arrayOf(c, 'b') } : {}) };
        expect(conv.loadStateDict(stateMap(state))).toEqual({ missingKeys: [], unexpectedKeys: [] });
        const y = conv.forward(x);
        y.backward(toTensor(arrayOf(c, 'g')));
        await expectGolden(y, arrayOf(c, 'y'), 1e-4, 'y');
        await expectGolden(x.grad!, arrayOf(c, 'dx'), 1e-3, 'dx');
        await expectGolden(conv.param('weight').grad!, arrayOf(c, 'dw'), 1e-3, 'dw');
        if (c.b) await expectGolden(conv.param('bias').grad!, arrayOf(c, 'db'), 1e-3, 'db');
      });
    }
  }

  it('refuses channel counts that do not split into the groups', () => {
    expect(() => new Conv2d(4, 6, 3, { groups: 4 })).toThrow(/4 input and 6 output channels do not split into 4 groups/);
  });
});
