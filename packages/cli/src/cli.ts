/**
 * spine-cli's dispatcher: global flags (--help, --version, --debug), help and dispatch from the
 * command registry (commands/registry.ts), and the one place errors become a message and an exit
 * code. `main` never throws and never exits the process, so it can be called from tests and from
 * bin.ts alike.
 */
import type { Command } from './commands/command.js';
import { COMMANDS } from './commands/registry.js';
import { parseCommandArgs } from './ui/args.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, formatError } from './ui/errors.js';
import { formatCommandHelp, formatMainHelp } from './ui/help.js';
import { cliVersion } from './version.js';

export { COMMANDS } from './commands/registry.js';

/** Commands --help lists as not in this build; they answer with a usage error (none: all are wired). */
export const PLANNED_COMMANDS: readonly string[] = [];

export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, CliError } from './ui/errors.js';
export { cliVersion, packageVersions } from './version.js';

export async function main(argv: readonly string[]): Promise<number> {
  const args = [...argv];
  // --debug may stand anywhere before a bare '--' (commands take no positionals, so none follow it).
  const end = args.includes('--') ? args.indexOf('--') : args.length;
  const debug = args.slice(0, end).includes('--debug');
  const rest = args.filter((a, i) => !(i < end && a === '--debug'));
  try {
    return await dispatch(rest, debug);
  } catch (e) {
    process.stderr.write(`${formatError(e, debug)}\n`);
    return e instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
  }
}

async function dispatch(args: string[], debug: boolean): Promise<number> {
  const first = args[0];
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' ? args[1] : undefined;
    const command = topic === undefined ? undefined : findCommand(topic);
    process.stdout.write(`${command ? formatCommandHelp(command) : formatMainHelp(COMMANDS, PLANNED_COMMANDS)}\n`);
    // No arguments at all is a usage error for scripts, though the help is what a person wants to see.
    return first === undefined ? EXIT_USAGE : EXIT_OK;
  }
  if (first === '--version' || first === '-V') {
    process.stdout.write(`spine-cli ${cliVersion()}\n`);
    return EXIT_OK;
  }
  if (first.startsWith('-')) throw new UsageError(`unknown flag '${first}' before the command`);
  const command = findCommand(first);
  const { values, positionals } = parseCommandArgs(command, args.slice(1));
  if (values.help) {
    process.stdout.write(`${formatCommandHelp(command)}\n`);
    return EXIT_OK;
  }
  const { run } = await command.load();
  return run(values, { debug, positionals });
}

function findCommand(name: string): Command {
  const command = COMMANDS.find((c) => c.name === name);
  if (command) return command;
  if ((PLANNED_COMMANDS as readonly string[]).includes(name)) {
    throw new UsageError(
      `'${name}' is planned but not in this build of spine-cli yet; available: ${COMMANDS.map((c) => c.name).join(', ')}`,
    );
  }
  const near = COMMANDS.filter((c) => editDistance(c.name, name) <= 2).map((c) => c.name);
  throw new UsageError(`unknown command '${name}'${near.length ? ` (did you mean ${near.join(' or ')}?)` : ''}`);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}
