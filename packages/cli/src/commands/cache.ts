/**
 * spine-cli cache: what spine-cli keeps in its cache folder, and removing it. Two things live
 * there: `weights/` (ImageNet DenseNets and ResNets from `weights fetch`, ~30-100 MB each) and `synthetic/` (the
 * quick start's generated films, ~17 MB). `clear` removes only those two folders, never anything
 * else in the folder, so a cache pointed at a shared directory stays safe.
 */
import { existsSync, lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { resolveCacheDir } from '@spine/models/cache-dir';
import { EXIT_OK, UsageError } from '../ui/errors.js';
import { formatTable } from '../ui/table.js';
import type { CommandContext, Values } from './command.js';

const NAME = 'cache';
const PARTS = ['weights', 'synthetic'] as const;
type Part = (typeof PARTS)[number];

/** Bytes under a path (files only; links are not followed). */
function sizeOf(path: string): number {
  const st = lstatSync(path);
  if (!st.isDirectory()) return st.isFile() ? st.size : 0;
  return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0);
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

interface Entry {
  part: Part;
  name: string;
  path: string;
  bytes: number;
}

function entries(cacheDir: string): Entry[] {
  return PARTS.flatMap((part) => {
    const folder = join(cacheDir, part);
    if (!existsSync(folder)) return [];
    return readdirSync(folder)
      .sort()
      .map((name) => ({ part, name, path: join(folder, name), bytes: sizeOf(join(folder, name)) }));
  });
}

export async function run(values: Values, context: CommandContext): Promise<number> {
  const [action = 'list', what, ...extra] = context.positionals;
  if (action !== 'list' && action !== 'clear')
    throw new UsageError(`the first argument must be list or clear, got '${action}'`, NAME);
  const cacheDir = resolveCacheDir(values['cache-dir'] ? { dir: values['cache-dir'] as string } : {});
  if (action === 'list') {
    if (what !== undefined) throw new UsageError(`unexpected argument '${what}'`, NAME);
    const list = entries(cacheDir);
    const total = list.reduce((s, e) => s + e.bytes, 0);
    if (values.json === true) {
      process.stdout.write(`${JSON.stringify({ cacheDir, totalBytes: total, entries: list }, null, 2)}\n`);
      return EXIT_OK;
    }
    const body = list.length
      ? formatTable(
          ['part', 'item', 'size'],
          list.map((e) => [e.part, e.name, mib(e.bytes)]),
        )
      : '(empty)';
    process.stdout.write(`Cache: ${cacheDir}\n\n${body}\n\n${mib(total)} in all\n`);
    return EXIT_OK;
  }
  if (values.json !== undefined) throw new UsageError('cache clear does not take --json', NAME);
  const choices = [...PARTS, 'all'];
  if (what === undefined || !choices.includes(what))
    throw new UsageError(
      `cache clear needs what to remove: ${choices.join(', ')}${what === undefined ? '' : `, got '${what}'`}`,
      NAME,
    );
  if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`, NAME);
  const parts = what === 'all' ? PARTS : [what as Part];
  for (const part of parts) {
    const folder = join(cacheDir, part);
    if (!existsSync(folder)) {
      process.stdout.write(`${folder}: not there, nothing to remove\n`);
      continue;
    }
    const bytes = sizeOf(folder);
    rmSync(folder, { recursive: true, force: true });
    process.stdout.write(`Removed ${folder} (${mib(bytes)})\n`);
  }
  return EXIT_OK;
}
