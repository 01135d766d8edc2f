import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;

const ALL_COMMANDS = [
  'train',
  'evaluate',
  'predict',
  'report',
  'explain',
  'export-web',
  'weights',
  'roi',
  'study',
  'doctor',
  'synth',
  'split',
  'cache',
];

describe.concurrent('help and dispatch', () => {
  it('--help lists every command and the exit codes', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ALL_COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    expect(r.stdout).toContain('2 usage error');
  });

  it.each(ALL_COMMANDS)('%s --help shows usage, flags and examples', async (name) => {
    for (const args of [
      [name, '--help'],
      ['help', name],
      [name, '-h'],
    ]) {
      const r = await runCli(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: spine-cli ${name}`);
      expect(r.stdout).toContain('Flags:');
      expect(r.stdout).toMatch(new RegExp(`Examples:\\n  spine-cli ${name}\\b`));
    }
  });

  it('--help wins over missing required flags', async () => {
    const r = await runCli(['split', '--help']);
    expect(r.code).toBe(0);
  });

  it('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r).toMatchObject({ code: 0, stdout: `spine-cli ${version}\n` });
  });

  it('no arguments prints the help on stdout and exits 2', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('Usage: spine-cli COMMAND');
  });

  it('an unknown command is a usage error with a suggestion', async () => {
    const r = await runCli(['splt']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: unknown command 'splt' (did you mean split?)");
    expect(r.stderr).toContain("Run 'spine-cli --help' for usage.");
  });
});
