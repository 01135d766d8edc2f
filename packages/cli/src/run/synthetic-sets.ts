// The quick start's films: 2000 synthetic cervical films from test-data's phantom, generated once
// into the spine-cli cache folder (beside downloaded weights) and read from there afterwards.
// Phantom film k depends only on (seed, k), so films 0-799 of seed 1 are byte for byte the
// committed sample (test-data/sample/cervical); the other 1200 are generated, never committed.
// Why 2000 and not the 800 committed: with 560 training films the quick network's test accuracy
// spread from 0.79 to 0.89 between splits; with 1400 it reached 0.88-0.91 in the same number of
// image steps (packages/cli/README.md, quick start).
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { resolveCacheDir } from '@spine/models/cache-dir';

export const QUICK_DATA = { region: 'cervical', seed: 1, count: 2000, width: 128 } as const;

/** Where the quick start's films live: <cache>/synthetic/cervical-s1-n2000-w128. */
export function quickStartDataDir(cacheDir: string = resolveCacheDir()): string {
  const q = QUICK_DATA;
  return join(cacheDir, 'synthetic', `${q.region}-s${q.seed}-n${q.count}-w${q.width}`);
}

/** True once the set is complete (labels.csv is written last, and the folder appears by rename). */
export function quickStartDataReady(dir: string): boolean {
  return existsSync(join(dir, 'labels.csv'));
}

/**
 * Generates the set into `dir` unless it is there. The films go to a temporary sibling folder
 * that is renamed into place when complete, so an interrupted generation leaves nothing that
 * looks finished (the next run starts it again; the films are deterministic).
 */
export async function ensureQuickStartData(dir: string, log: (line: string) => void): Promise<void> {
  removeAbandoned(dir);
  if (quickStartDataReady(dir)) return;
  const { generateDataset } = await import('@spine/test-data');
  const q = QUICK_DATA;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  log(`Generating the quick start's synthetic films once: ${q.count} ${q.region} films (phantom seed ${q.seed}, ${q.width} px wide) into ${dir}`);
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
  if (quickStartDataReady(dir)) rmSync(tmp, { recursive: true, force: true });
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
    if (Number.isInteger(pid) && pid !== process.pid && !alive(pid)) rmSync(join(parent, name), { recursive: true, force: true });
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
