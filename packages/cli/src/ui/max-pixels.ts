/** --max-pixels, for every command that decodes films; its declaration is MAX_PIXELS_OPTION in commands/registry.ts. */
import { MAX_PIXELS } from '@spine/imaging';
import { integerFlag, type Values } from './args.js';

/** The flag's value, or undefined for the library default. */
export function maxPixelsFlag(command: string, values: Values): number | undefined {
  const text = values['max-pixels'] as string | undefined;
  if (text === undefined) return undefined;
  return integerFlag(command, 'max-pixels', text, 1, MAX_PIXELS);
}
