/** Flag parsing on Node's util.parseArgs, with every mistake turned into a UsageError (exit 2). */
import { parseArgs } from 'node:util';
import type { CommandSpec } from '../commands/command.js';
import { UsageError } from './errors.js';

/** A command's parsed flags, by name (without the dashes). */
export type Values = Record<string, string | boolean | undefined>;

/** Parses a command's flags; `--help`/`-h` is added to every command. */
export function parseCommandArgs(
  command: CommandSpec,
  argv: readonly string[],
): { values: Values & { help?: boolean }; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, spec] of Object.entries(command.options)) {
    options[name] = spec.short ? { type: spec.type, short: spec.short } : { type: spec.type };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (e) {
    throw new UsageError(describeParseError(e as Error & { code?: string }), command.name);
  }
  if (parsed.positionals.length > 0 && command.positionals === undefined) {
    throw new UsageError(
      `unexpected argument '${parsed.positionals[0]}' (${command.name} takes only flags)`,
      command.name,
    );
  }
  const values = parsed.values as Values & { help?: boolean };
  const result = { values, positionals: parsed.positionals };
  if (values.help) return result;
  for (const [name, spec] of Object.entries(command.options)) {
    if (spec.required && values[name] === undefined) {
      throw new UsageError(
        `missing --${name}${spec.value ? ` ${spec.value}` : ''} (${lowerFirst(spec.description.replace(/\.$/, ''))})`,
        command.name,
      );
    }
  }
  if (command.positionals !== undefined && !command.positionalsOptional && parsed.positionals.length === 0) {
    throw new UsageError(`missing ${command.positionals}`, command.name);
  }
  return result;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

function describeParseError(e: Error & { code?: string }): string {
  // Node's messages are accurate but long ("... To specify a positional argument starting with a '-' ...");
  // keep the first sentence, which names the flag.
  const first = e.message.split('. ')[0]!.replace(/\.$/, '');
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return first.replace(/^Unknown option/, 'unknown flag');
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const flag = /'(-[^' ]+)/.exec(first)?.[1];
      if (flag && first.endsWith('argument missing')) return `flag ${flag} needs a value`;
      if (flag && first.includes('ambiguous'))
        return `flag ${flag} needs a value; for one that starts with '-', write ${flag}=VALUE`;
      return first.replace(/^Option/, 'flag');
    }
    default:
      return first;
  }
}

/** An integer flag within [min, max]. */
export function integerFlag(
  command: string,
  flag: string,
  text: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const n = /^[+]?\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`--${flag} must be an integer ${range}, got '${text}'`, command);
  }
  return n;
}

/** A probability flag: a number from 0 to 1. */
export function probabilityFlag(command: string, flag: string, text: string): number {
  const n = /^(0|1|0?\.\d+|1\.0*)$/.test(text.trim()) ? Number(text) : NaN;
  if (!(n >= 0 && n <= 1)) throw new UsageError(`--${flag} must be a probability from 0 to 1, got '${text}'`, command);
  return n;
}

/** A flag whose value is one of a fixed set. */
export function choiceFlag<T extends string>(command: string, flag: string, text: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(text)) {
    throw new UsageError(`--${flag} must be one of ${choices.join(', ')}, got '${text}'`, command);
  }
  return text as T;
}
