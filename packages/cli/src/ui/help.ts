/** --help text for the program and for each command. */
import type { CommandSpec } from '../commands/command.js';

export const GLOBAL_FLAGS: [string, string][] = [
  ['--help, -h', 'Show help (for a command: spine-cli COMMAND --help).'],
  ['--version', 'Print the version of spine-cli.'],
  ['--debug', 'On an error, show the stack trace as well as the message.'],
];

export function formatMainHelp(commands: readonly CommandSpec[], planned: readonly string[]): string {
  const w = Math.max(...commands.map((c) => c.name.length));
  return [
    'spine-cli: sex classification from lateral spine radiographs (Xue et al.), on a WebGPU tensor engine.',
    '',
    'Usage: spine-cli COMMAND [flags]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    ...(planned.length > 0 ? ['', `Coming next: ${planned.join(', ')} (not in this build yet).`] : []),
    '',
    'Global flags:',
    ...flagLines(GLOBAL_FLAGS),
    '',
    'Exit codes: 0 success, 1 failure (the message says what and where), 2 usage error.',
    "Run 'spine-cli COMMAND --help' for a command's flags and examples.",
  ].join('\n');
}

export function formatCommandHelp(c: CommandSpec): string {
  const flags: [string, string][] = Object.entries(c.options).map(([name, o]) => {
    const left = `--${name}${o.value ? ` ${o.value}` : ''}${o.short ? `, -${o.short}` : ''}`;
    const notes = [o.required ? 'required' : '', o.defaultText ? `default: ${o.defaultText}` : '']
      .filter(Boolean)
      .join('; ');
    return [left, `${o.description}${notes ? ` (${notes})` : ''}`];
  });
  return [
    `spine-cli ${c.name}: ${c.summary}`,
    '',
    `Usage: spine-cli ${c.usage}`,
    ...(c.description ? ['', c.description] : []),
    '',
    'Flags:',
    ...flagLines(flags),
    ...flagLines(GLOBAL_FLAGS.filter(([f]) => f !== '--version')),
    '',
    'Examples:',
    ...c.examples.map((e) => `  ${e}`),
  ].join('\n');
}

function flagLines(flags: readonly [string, string][]): string[] {
  const w = Math.min(30, Math.max(...flags.map(([f]) => f.length)));
  return flags.map(([f, d]) => (f.length > w ? `  ${f}\n  ${' '.repeat(w)}  ${d}` : `  ${f.padEnd(w)}  ${d}`));
}
