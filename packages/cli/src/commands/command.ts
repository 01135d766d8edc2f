/**
 * What every command declares for parsing and --help (CommandSpec), and what its module exports
 * when the command runs (CommandModule).
 */
import type { Values } from '../ui/args.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder shown in help, e.g. 'DIR'. */
  value?: string;
  description: string;
  /** Shown in help as "(default: ...)"; the command applies it. */
  defaultText?: string;
  required?: boolean;
}

export interface CommandContext {
  /** --debug: show stacks, and extra detail where a command has it. */
  debug: boolean;
  /** Arguments that are not flags (only for commands that declare `positionals`). */
  positionals: readonly string[];
}

export type { Values };

export interface CommandSpec {
  name: string;
  /** One line, for the command list. */
  summary: string;
  /** Usage line(s) after 'spine-cli '. */
  usage: string;
  /** A paragraph or two for --help. */
  description?: string;
  options: Record<string, OptionSpec>;
  /** Placeholder of the positional arguments the command takes (e.g. 'FILES_OR_DIRS...'); none when absent. */
  positionals?: string;
  /** The positionals may be left out (the command checks what it needs, e.g. predict with --input). */
  positionalsOptional?: boolean;
  examples: string[];
}

export interface CommandModule {
  /** Returns the exit code (0 success, 1 failure); throws UsageError / CliError for errors. */
  run(values: Values, context: CommandContext): Promise<number>;
}

/** A command in the registry: its declaration, and its module, imported only when it runs. */
export interface Command extends CommandSpec {
  load(): Promise<CommandModule>;
}
