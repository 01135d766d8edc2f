import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAX_PIXELS } from '@spine/imaging';
import { describe, expect, it } from 'vitest';
import { COMMANDS, MAX_PIXELS_OPTION } from '../src/commands/registry.js';
import { maxPixelsFlag } from '../src/ui/max-pixels.js';
import { runCli } from './run-cli.js';

describe('--max-pixels', () => {
  it('shows the library default as its default', () => {
    expect(MAX_PIXELS_OPTION.defaultText).toBe(String(DEFAULT_MAX_PIXELS));
  });

  it.each(['predict', 'explain', 'train', 'evaluate', 'roi', 'report'])('%s declares it', (name) => {
    expect(COMMANDS.find((c) => c.name === name)!.options['max-pixels']).toBe(MAX_PIXELS_OPTION);
  });

  it('parses a positive integer up to 2^28, and leaves the default to the library when absent', () => {
    expect(maxPixelsFlag('predict', {})).toBeUndefined();
    expect(maxPixelsFlag('predict', { 'max-pixels': '50000000' })).toBe(50_000_000);
    for (const bad of ['0', '-5', '1e6', String(2 ** 28 + 1)]) {
      expect(() => maxPixelsFlag('predict', { 'max-pixels': bad })).toThrow(
        /--max-pixels must be an integer from 1 to 268435456/,
      );
    }
  });
});

describe('--max-pixels with train --resume', () => {
  it('may be given, like --workers and --cache (it decides which films are accepted, not the run)', async () => {
    const missing = join(tmpdir(), 'spine-cli-no-such-run');
    const r = await runCli(['train', '--resume', '--out', missing, '--max-pixels', '1000']);
    expect(r.stderr).not.toMatch(/may be given/);
    const other = await runCli(['train', '--resume', '--out', missing, '--lr', '0.1']);
    expect(other.stderr).toMatch(/only --epochs, --workers, --cache and --max-pixels may be given \(not --lr\)/);
  });
});
