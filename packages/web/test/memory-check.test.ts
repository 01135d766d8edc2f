// Before training, the page says when the films or the network do not fit, and what to choose instead.
import * as T from '@spine/tensor/node';
import { SequentialCNN, quickTrainingSettings, type SequentialCnnConfig } from '@spine/models';
import { beforeAll, describe, expect, it } from 'vitest';
import { FILM_MEMORY_BUDGET, filmsProblem, networkProblem } from '../src/train/memory-check.js';

beforeAll(async () => {
  await T.ready();
});

describe('memory checks', () => {
  it('refuses films that would not fit in memory and names an input size that fits', () => {
    expect(filmsProblem(2000, 64)).toBeUndefined();
    const problem = filmsProblem(200_000, 128)!;
    expect(problem).toMatch(
      /^the 200000 films at 128 px take 12500 MiB in memory, more than this page keeps \(1536 MiB\)/,
    );
    const fits = Number(/\((\d+) px fits\)/.exec(problem)![1]);
    expect(200_000 * fits * fits * 4).toBeLessThanOrEqual(FILM_MEMORY_BUDGET);
    expect(200_000 * (fits + 16) * (fits + 16) * 4).toBeGreaterThan(FILM_MEMORY_BUDGET);
    expect(problem).toMatch(/or a folder of at most 24576 films\.$/);
  });

  it("refuses a network or batch over the adapter's binding limit", () => {
    const net = new SequentialCNN(quickTrainingSettings().model as SequentialCnnConfig);
    try {
      expect(networkProblem(net, 32, 64, T.deviceInfo().limits)).toBeUndefined();
      // FC6 of the quick network at 64 px is 64 x 288 floats (72 KiB): over a 64 KiB limit.
      expect(networkProblem(net, 32, 64, { maxStorageBufferBindingSize: 64 * 1024 })).toMatch(
        /^the network's classifier\.\d+\.weight\S* takes 72 KiB, over this graphics adapter's binding limit of 64 KiB\. Choose a smaller input size\.$/,
      );
      expect(networkProblem(net, 4096, 64, { maxStorageBufferBindingSize: 2 ** 20 * 40 })).toMatch(
        /^a batch of 4096 films at 64 px takes 192 MiB, over this graphics adapter's binding limit of 40 MiB\. Choose a smaller input size\.$/,
      );
    } finally {
      net.dispose();
    }
  });
});
