/** Flag helpers shared by the roi subcommands. */
import { UsageError } from '../ui/errors.js';
import type { Values } from '../ui/args.js';

export const ROI = 'roi';

/** Requires a string flag (the shared flag table cannot mark flags required per subcommand). */
export function required(values: Values, flag: string, sub: string, what: string): string {
  const v = values[flag];
  if (typeof v !== 'string' || v === '') throw new UsageError(`missing --${flag} (${what}) for 'roi ${sub}'`, ROI);
  return v;
}
