/**
 * Where downloaded weights live. Precedence: an explicit folder (a --cache-dir flag), then
 * $SPINE_CLI_CACHE_DIR, then $XDG_CACHE_HOME/spine-cli, then ~/.cache/spine-cli (the XDG default,
 * which is also where torch.hub-like tools put theirs on Linux and macOS).
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { urlFileName, type PretrainedWeights } from './registry.js';

export const CACHE_DIR_ENV = 'SPINE_CLI_CACHE_DIR';

export function resolveCacheDir(options: { dir?: string; env?: Record<string, string | undefined> } = {}): string {
  const env = options.env ?? process.env;
  if (options.dir) return resolve(options.dir);
  if (env[CACHE_DIR_ENV]) return resolve(env[CACHE_DIR_ENV]);
  // The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'spine-cli');
  return join(env.HOME || homedir(), '.cache', 'spine-cli');
}

/** The files of one registry entry in a cache folder. */
export interface WeightsPaths {
  folder: string;
  /** The converted weights, what training loads: <name>-<hash>.safetensors. */
  safetensors: string;
  /** Where a .pth downloaded by hand may be put (`weights fetch` then verifies and converts it). */
  pth: string;
  /** The download in progress; kept between runs so a rerun resumes it. */
  part: string;
}

export function weightsPaths(cacheDir: string, entry: PretrainedWeights): WeightsPaths {
  const folder = join(cacheDir, 'weights');
  const pthName = urlFileName(entry.url);
  const stem = pthName.replace(/\.pth$/, '');
  return {
    folder,
    safetensors: join(folder, `${stem}.safetensors`),
    pth: join(folder, pthName),
    part: join(folder, `${pthName}.part`),
  };
}
