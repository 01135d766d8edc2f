/** spine-cli roi: the paper's CBIR ROI step, `roi index` (reference films -> index) and `roi crop` (films -> square crops). */
import { availableParallelism } from 'node:os';
import { integerFlag } from '../ui/args.js';
import { UsageError } from '../ui/errors.js';
import type { CommandContext, Values } from './command.js';
import { runRoiCrop } from '../roi/crop.js';
import { ROI } from '../roi/flags.js';
import { runRoiIndex } from '../roi/make-index.js';

const INDEX_FLAGS = ['db', 'out', 'working-width', 'bins', 'angle', 'levels', 'workers', 'max-pixels'];
const CROP_FLAGS = [
  'index',
  'data',
  'out',
  'side',
  'at-width',
  'keep-inside',
  'size',
  'preview',
  'db',
  'workers',
  'max-pixels',
];

export async function run(values: Values, context: CommandContext): Promise<number> {
  const [sub, ...rest] = context.positionals;
  if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}' after 'roi ${sub}'`, ROI);
  if (sub === 'index') {
    onlyFlags(values, INDEX_FLAGS, 'index');
    return runRoiIndex(values, workersFlag(values));
  }
  if (sub === 'crop') {
    onlyFlags(values, CROP_FLAGS, 'crop');
    return runRoiCrop(values, workersFlag(values));
  }
  throw new UsageError(`unknown roi subcommand '${sub}' (use 'roi index' or 'roi crop')`, ROI);
}

/** Each subcommand takes its own flags; a flag of the other one is a mistake worth naming. */
function onlyFlags(values: Values, allowed: readonly string[], sub: string): void {
  for (const [name, v] of Object.entries(values)) {
    if (v === undefined || name === 'help' || allowed.includes(name)) continue;
    throw new UsageError(`--${name} is not a flag of 'roi ${sub}'`, ROI);
  }
}

function workersFlag(values: Values): number {
  return values.workers === undefined
    ? Math.min(8, availableParallelism())
    : integerFlag(ROI, 'workers', values.workers as string, 0, 64);
}
