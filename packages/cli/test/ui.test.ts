import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatError } from '../src/ui/errors.js';
import { Progress, formatDuration } from '../src/ui/progress.js';
import { formatTable } from '../src/ui/table.js';

/** A stream stand-in that records writes. */
function sink(): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  return {
    stream: { write: (s: string) => (chunks.push(s), true) } as unknown as NodeJS.WriteStream,
    text: () => chunks.join(''),
  };
}

describe('progress', () => {
  it('draws one bar in place on a terminal, with items, rate and ETA', () => {
    let t = 0;
    const out = sink();
    const p = new Progress(4, { unit: 'films', label: 'synth', stream: out.stream, tty: true, now: () => t });
    t = 1;
    p.update(1);
    t = 2;
    p.update(4);
    p.finish();
    expect(out.text()).toBe(
      '\rsynth [######..................] 1/4 films  1.00/s  ETA 3.0s\x1b[K' +
        '\rsynth [########################] 4/4 films  2.00/s  ETA 0.0s\x1b[K\n',
    );
  });

  it('writes plain lines elsewhere, at most one per interval plus the last', () => {
    let t = 0;
    const out = sink();
    const p = new Progress(100, { unit: 'films', stream: out.stream, tty: false, plainEverySeconds: 5, now: () => t });
    for (let i = 1; i <= 100; i++) {
      t = i * 0.1;
      p.update(i);
    }
    p.finish();
    expect(out.text().split('\n').filter(Boolean)).toEqual([
      '1/100 films, 10.0/s, ETA 9.9s',
      '51/100 films, 10.0/s, ETA 4.9s',
      '100/100 films, 10.0/s, in 10s',
    ]);
  });

  it('formats durations for people', () => {
    expect([
      formatDuration(3.21),
      formatDuration(42),
      formatDuration(185),
      formatDuration(3720),
      formatDuration(Infinity),
    ]).toEqual(['3.2s', '42s', '3m05s', '1h02m', '--']);
  });
});

describe('table', () => {
  it('right-aligns numbers, left-aligns text, and rules before a total', () => {
    expect(
      formatTable(
        ['split', 'female', 'male'],
        [
          ['train', 320, 32],
          ['test', 4, 40],
          ['total', 324, 72],
        ],
        { ruleBefore: [2] },
      ),
    ).toBe(
      [
        'split  female  male',
        '-----  ------  ----',
        'train     320    32',
        'test        4    40',
        '-----  ------  ----',
        'total     324    72',
      ].join('\n'),
    );
  });
});

const launcher = fileURLToPath(new URL('../bin/spine-cli.js', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../dist/bin.js', import.meta.url)));

describe('launcher', () => {
  // The committed bin/spine-cli.js runs dist/bin.js; only meaningful once the package is built.
  it.skipIf(!built)('bin/spine-cli.js runs the built CLI', async () => {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [launcher, '--version'], { encoding: 'utf8' }, (e, out) =>
        e ? reject(e) : resolve(out),
      ),
    );
    expect(stdout).toMatch(/^spine-cli \d+\.\d+\.\d+\n$/);
  });
});

describe('error messages', () => {
  it("the packages' errors for bad input are printed as they are, never as a bug; an internal error is", () => {
    for (const name of ['TrainingError', 'SerializationError', 'ImagingError', 'CbirError', 'DatasetError']) {
      const e = Object.assign(new Error('/runs/a/checkpoints/best.json: not valid JSON'), { name });
      expect(formatError(e, false)).toBe('error: /runs/a/checkpoints/best.json: not valid JSON');
    }
    const weights = Object.assign(new Error('/w.pth: truncated'), { name: 'WeightsError', hint: 'Fetch it again.' });
    expect(formatError(weights, false)).toBe('error: /w.pth: truncated\nFetch it again.');
    expect(formatError(new TypeError("Cannot read properties of null (reading 'format')"), false)).toContain(
      'This looks like a bug',
    );
  });

  it('a system error without a path says what failed without an empty path', () => {
    const e = Object.assign(new Error('EISDIR: illegal operation on a directory, read'), {
      code: 'EISDIR',
      syscall: 'read',
    });
    expect(formatError(e, false)).toBe('error: cannot read: is a folder, expected a file');
  });
});
