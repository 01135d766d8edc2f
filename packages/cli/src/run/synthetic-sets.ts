// Synthetic films generated on first use into the spine-cli cache folder (beside downloaded
// weights) and read from there afterwards: the quick start's 2000 cervical films, and the sample
// sets that the paper presets default to when the repository's committed sample is not there (an
// installed spine-cli does not ship it). Phantom film k depends only on (seed, k), so films 0-799
// of seed 1 are the committed sample's films (test-data/sample/cervical), pixel for pixel.
// Why the quick start takes 2000 and not the 800 committed: with 560 training films the quick
// network's test accuracy spread from 0.79 to 0.89 between splits; with 1400 it reached 0.88-0.91
// in the same number of image steps (packages/cli/README.md, quick start).
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { resolveCacheDir } from '@spine/models/cache-dir';

export interface SyntheticSet {
  region: 'cervical' | 'lumbar';
  seed: number;
  count: number;
  width: number;
}

export const QUICK_DATA: SyntheticSet = { region: 'cervical', seed: 1, count: 2000, width: 128 };

const SET_NAME = /^(cervical|lumbar)-s(\d+)-n(\d+)-w(\d+)$/;

/** Where a set lives: <cache>/synthetic/<region>-s<seed>-n<count>-w<width>. */
export function syntheticSetDir(set: SyntheticSet, cacheDir: string = resolveCacheDir()): string {
  return join(cacheDir, 'synthetic', `${set.region}-s${set.seed}-n${set.count}-w${set.width}`);
}

/** Where the quick start's films live: <cache>/synthetic/cervical-s1-n2000-w128. */
export function quickStartDataDir(cacheDir: string = resolveCacheDir()): string {
  return syntheticSetDir(QUICK_DATA, cacheDir);
}

/** The set a data folder names when it is one of the cache's synthetic sets, else undefined. */
export function syntheticSetAt(dir: string, cacheDir: string = resolveCacheDir()): SyntheticSet | undefined {
  if (dirname(dir) !== join(cacheDir, 'synthetic')) return undefined;
  const m = SET_NAME.exec(basename(dir));
  if (!m) return undefined;
  return { region: m[1] as SyntheticSet['region'], seed: Number(m[2]), count: Number(m[3]), width: Number(m[4]) };
}

/** True once the set is complete (labels.csv is written last, and the folder appears by rename). */
export function syntheticSetReady(dir: string): boolean {
  return existsSync(join(dir, 'labels.csv'));
}

/**
 * Generates the set into `dir` unless it is there. The films go to a temporary sibling folder
 * that is renamed into place when complete, so an interrupted generation leaves nothing that
 * looks finished (the next run starts it again; the films are deterministic).
 */
export async function ensureSyntheticSet(q: SyntheticSet, dir: string, log: (line: string) => void): Promise<void> {
  removeAbandoned(dir);
  if (syntheticSetReady(dir)) return;
  // The renderer is imported here: config.ts imports this module, and --help reads config.ts's presets.
  const { generateDataset } = await import('@spine/test-data');
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  log(
    `Generating synthetic films once: ${q.count} ${q.region} films (phantom seed ${q.seed}, ${q.width} px wide) into ${dir}`,
  );
  const t0 = performance.now();
  let next = 0.25;
  await generateDataset({
    region: q.region,
    count: q.count,
    seed: q.seed,
    width: q.width,
    outDir: tmp,
    onProgress: (done, total) => {
      if (done / total < next) return;
      next += 0.25;
      log(`  ${done}/${total} films, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    },
  });
  // Another process may have finished the same set meanwhile: keep theirs (identical bytes).
  if (syntheticSetReady(dir)) rmSync(tmp, { recursive: true, force: true });
  else {
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  }
}

/** Temporary folders of generations whose process is gone (interrupted runs). */
function removeAbandoned(dir: string): void {
  const parent = dirname(dir);
  if (!existsSync(parent)) return;
  const prefix = `${basename(dir)}.tmp-`;
  for (const name of readdirSync(parent)) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (Number.isInteger(pid) && pid !== process.pid && !alive(pid))
      rmSync(join(parent, name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
