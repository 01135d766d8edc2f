// The scratch-texture cache (scratch-textures.ts): a larger texture of a slot serves smaller
// requests, a new one replaces the textures it covers, sizes round up to quarter-octave steps, and
// the byte cap retires the least recently used. Matmul correctness on shared and evicted textures
// is checked in matmul.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/node.js';
import { roundUp, ScratchTextures } from '../src/scratch-textures.js';

let cache: ScratchTextures;
beforeAll(async () => {
  await T.ready();
  cache = new ScratchTextures(T.getEngine().device, 1 << 30, 16384);
});
afterAll(() => cache.destroyAll());

describe('scratch textures', () => {
  it('round sizes up to a quarter of their power of two, never past the limit', () => {
    expect([5, 8, 9, 100, 128, 129, 3136 / 4].map((n) => roundUp(n, 16384))).toEqual([5, 8, 10, 112, 128, 160, 896]);
    expect(roundUp(16000, 16384)).toBe(16384);
    expect(roundUp(16383, 16383)).toBe(16383);
  });

  it('serve a smaller request from a larger texture of the same slot, and replace covered ones', () => {
    const a = cache.get('a', 100, 40);
    expect(cache.get('a', 90, 30).texture).toBe(a.texture);
    expect(cache.get('b', 90, 30).texture).not.toBe(a.texture); // another slot
    expect(cache.count).toBe(2);
    const big = cache.get('a', 120, 60); // covers the 112x40 one, which retires
    expect(big.texture).not.toBe(a.texture);
    expect(cache.count).toBe(2);
    expect(cache.get('a', 100, 40).texture).toBe(big.texture);
    const tall = cache.get('a', 20, 500); // not covered by 128x64, nor covering it: both kept
    expect(cache.count).toBe(3);
    expect(cache.get('a', 16, 300).texture).toBe(tall.texture);
    expect(cache.bytes).toBe((128 * 64 + 20 * 512 + 96 * 32) * 16);
    cache.afterSubmit();
  });

  it('retire the least recently used beyond the byte cap, never the one just asked for', () => {
    cache.capBytes = 0;
    const t = cache.get('c', 64, 64);
    expect(cache.count).toBe(1);
    expect(cache.get('c', 64, 64).texture).toBe(t.texture);
    cache.capBytes = 1 << 30;
    cache.afterSubmit();
  });
});
