import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

/** Every usage error exits 2 with one line naming the flag, and a pointer to the command's help. */
const cases: [string[], string][] = [
  [['synth', '--count', '3', '--out', 'x'], 'missing --region cervical|lumbar'],
  [['synth', '--region', 'neck', '--count', '3', '--out', 'x'], "--region must be one of cervical, lumbar, got 'neck'"],
  [
    ['synth', '--region', 'lumbar', '--count', 'three', '--out', 'x'],
    "--count must be an integer from 1 to 10000000, got 'three'",
  ],
  [
    ['synth', '--region', 'lumbar', '--count', '3', '--out', 'x', '--width', '8'],
    "--width must be an integer from 16 to 8192, got '8'",
  ],
  [['synth', '--region', 'lumbar', '--count'], 'flag --count needs a value'],
  [['split'], 'missing --data DIR (the data folder)'],
  [['split', '--data', '.', '--bogus'], "unknown flag '--bogus'"],
  [['split', '--data', '.', 'extra'], "unexpected argument 'extra'"],
  [['split', '--data', '.', '--fractions', '0.5,0.5'], '--fractions must be three non-negative numbers'],
  [
    ['split', '--data', '.', '--fractions', '0.8,0.1,0.1', '--counts', 'paper-cervical'],
    '--fractions and --counts cannot be used together',
  ],
  [['split', '--data', '.', '--counts', 'train=1:1,val=1:1'], '--counts is missing test'],
  [['split', '--data', '.', '--counts', 'train=1:1,val=1,test=1:1'], "--counts has a malformed part 'val=1'"],
  [
    ['split', '--data', '.', '--numeric-sex', '1=male'],
    '--numeric-sex must be one of 0=female,1=male, 0=male,1=female',
  ],
  [['split', '--data', '.', '--seed=-1'], "--seed must be an integer from 0 to 4294967295, got '-1'"],
  [
    ['split', '--data', '.', '--seed', '-1'],
    "flag --seed needs a value; for one that starts with '-', write --seed=VALUE",
  ],
  [['doctor', '--json=yes'], "flag '--json' does not take an argument"],
];

describe.concurrent('usage errors', () => {
  it.each(cases)('%j -> exit 2', async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: ${message}`);
    expect(r.stderr).toContain(`Run 'spine-cli ${args[0]} --help' for usage.`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });
});
