import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImage, ImagingError } from '../src/index.js';
import { rng } from './damage.js';

const dir = join(import.meta.dirname, 'fixtures');
const fixtures = readdirSync(dir).filter((f) => !f.endsWith('.py'));
const ITERATIONS = 150; // per fixture; bounded so the suite stays fast

/**
 * Random byte flips, insertions, deletions and truncations of every fixture. Each decode must
 * either return a well-formed image or throw an ImagingError; anything else (TypeError from a
 * decoder, out-of-memory, a hang that vitest's timeout would catch) is a bug.
 */
describe('fuzz: mutated fixtures never crash', () => {
  it.each(fixtures)(
    '%s',
    (name) => {
      const original = new Uint8Array(readFileSync(join(dir, name)));
      const rand = rng(0xc0ffee ^ name.length ^ original.length);
      for (let it = 0; it < ITERATIONS; it++) {
        let bytes = original.slice();
        const edits = 1 + Math.floor(rand() * 8);
        for (let e = 0; e < edits; e++) {
          const kind = rand();
          const pos = Math.floor(rand() * bytes.length);
          if (kind < 0.6) bytes[pos] = Math.floor(rand() * 256);
          else if (kind < 0.75) bytes[pos] ^= 1 << Math.floor(rand() * 8);
          else if (kind < 0.85) bytes = bytes.subarray(0, Math.max(1, pos)).slice();
          else if (kind < 0.95) {
            const ins = new Uint8Array(1 + Math.floor(rand() * 16)).map(() => Math.floor(rand() * 256));
            bytes = new Uint8Array([...bytes.subarray(0, pos), ...ins, ...bytes.subarray(pos)]);
          } else
            bytes = new Uint8Array([...bytes.subarray(0, pos), ...bytes.subarray(pos + 1 + Math.floor(rand() * 16))]);
        }
        try {
          const img = decodeImage(bytes, name);
          expect(img.data.length).toBe(img.width * img.height * img.channels);
        } catch (e) {
          if (!(e instanceof ImagingError)) throw new Error(`${name} iteration ${it}: ${String(e)}`);
        }
      }
    },
    20_000,
  );
});
