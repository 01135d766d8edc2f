// Grouped and depthwise conv2d (Conv2d's `groups`) against PyTorch float64 goldens
// (fixtures/golden/grouped_conv.json) on both kernel families: through the module (which picks
// the route) and through each route, direct kernels and per-group conv2d, by itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@spine/tensor/node';
import { Conv2d } from '../../../src/index.js';
import { conv2dPerGroup, groupedGeometry, type GroupedConv2dOptions } from '../../../src/ops/conv2d/conv2d-grouped.js';
import { conv2dGroupedDirect } from '../../../src/ops/conv2d/conv2d-grouped-direct.js';
import { arrayOf, expectGolden, loadGolden, stateMap, toTensor, type GoldenArray } from '../../helpers/golden.js';

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
        const conv = new Conv2d(x.shape[1]!, w.shape[0]!, [w.shape[2]!, w.shape[3]!], {
          groups,
          stride: c.stride as number,
          padding: c.padding as number,
          dilation: c.dilation as number,
          bias: c.b !== undefined,
        });
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

  const routes: [string, (x: T.Tensor, w: T.Tensor, b: T.Tensor | null, o: GroupedConv2dOptions) => T.Tensor][] = [
    ['direct', (x, w, b, o) => conv2dGroupedDirect(x, w, b, groupedGeometry(x, w, b, o), o.groups!)],
    ['per-group', conv2dPerGroup],
  ];
  for (const family of FAMILIES) {
    for (const [route, run] of routes) {
      for (const c of cases) {
        it(`${family}, ${route} route: ${c.name as string}`, async () => {
          T.setKernelFamily(family);
          const [x, w] = [toTensor(arrayOf(c, 'x'), true), toTensor(arrayOf(c, 'w'), true)];
          const b = c.b ? toTensor(arrayOf(c, 'b'), true) : null;
          const y = run(x, w, b, {
            groups: c.groups as number,
            stride: c.stride as number,
            padding: c.padding as number,
            dilation: c.dilation as number,
          });
          y.backward(toTensor(arrayOf(c, 'g')));
          await expectGolden(y, arrayOf(c, 'y'), 1e-4, 'y');
          await expectGolden(x.grad!, arrayOf(c, 'dx'), 1e-3, 'dx');
          await expectGolden(w.grad!, arrayOf(c, 'dw'), 1e-3, 'dw');
          if (b) await expectGolden(b.grad!, arrayOf(c, 'db'), 1e-3, 'db');
        });
      }
    }
  }

  it('a depthwise layer of many channels is a few dispatches, not a chain per channel', async () => {
    // Poisoned outputs would add a fill dispatch per new tensor.
    T.setPoisonOutputs(false);
    const conv = new Conv2d(64, 64, 3, { groups: 64, padding: 1 });
    const x = T.randn([2, 64, 9, 9]);
    x.requiresGrad = true;
    await T.sync();
    const before = T.getEngine().counters.dispatches;
    const y = conv.forward(x);
    expect(T.getEngine().counters.dispatches - before).toBe(1);
    const loss = T.sum(y);
    loss.backward();
    await T.sync();
    expect(T.getEngine().counters.dispatches - before).toBeLessThan(12);
    T.setPoisonOutputs(true);
  });

  it('refuses channel counts that do not split into the groups', () => {
    expect(() => new Conv2d(4, 6, 3, { groups: 4 })).toThrow(
      /4 input and 6 output channels do not split into 4 groups/,
    );
  });
});
