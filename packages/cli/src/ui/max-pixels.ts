/** The --max-pixels flag of every command that decodes films (predict, explain, train, evaluate, roi). */
import type { OptionSpec, Values } from '../commands/command.js';
import { integerFlag } from './args.js';

export const MAX_PIXELS_OPTION: OptionSpec = {
  type: 'string',
  value: 'N',
  description:
    'Refuse images of more than N pixels (width x height), from their header before decoding; films need at most ~25 million.',
  // @spine/imaging's DEFAULT_MAX_PIXELS (a test keeps the two equal; importing it here would load the decoders for --help).
  defaultText: '30000000',
};

/** The flag's value, or undefined for the library default. */
export async function maxPixelsFlag(command: string, values: Values): Promise<number | undefined> {
  const text = values['max-pixels'] as string | undefined;
  if (text === undefined) return undefined;
  const { MAX_PIXELS } = await import('@spine/imaging');
  return integerFlag(command, 'max-pixels', text, 1, MAX_PIXELS);
}
