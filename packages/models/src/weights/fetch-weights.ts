/**
 * `weights fetch`: get a registry entry's checkpoint into the cache as safetensors. Order of
 * business: already converted -> done; a .pth put in the cache folder by hand -> check and convert
 * it (no network); otherwise download into a .part file (resumed on the next run if cut off),
 * check its SHA-256 prefix, convert, delete the .part. A file that fails the check is deleted and
 * nothing is stored, so the cache never holds unverified weights.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, unlink } from 'node:fs/promises';
import { weightsPaths, type WeightsPaths } from './cache-dir.js';
import { convertToSafetensors } from './convert.js';
import { downloadResumable, type DownloadProgress } from './download.js';
import { WeightsError, isWeightsError } from './errors.js';
import type { PretrainedWeights } from './registry.js';

export interface FetchWeightsOptions {
  cacheDir: string;
  /** Download from here instead of the registry's URL (a mirror); the hash check is the same. */
  url?: string;
  /** Downloads tried in this call when the connection drops mid-file (each resumes the last); default 3. */
  attempts?: number;
  /** Pause before a retry, ms; default 1000. */
  retryDelayMs?: number;
  onProgress?: (p: DownloadProgress) => void;
  /** One-line status messages (resuming, verifying, converting). */
  onStatus?: (message: string) => void;
  signal?: AbortSignal;
}

export interface FetchWeightsResult {
  path: string;
  /** cached: it was already there; downloaded; local: converted from a .pth placed by hand. */
  source: 'cached' | 'downloaded' | 'local';
  sha256: string | null;
  paths: WeightsPaths;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function fetchPretrainedWeights(
  entry: PretrainedWeights,
  options: FetchWeightsOptions,
): Promise<FetchWeightsResult> {
  const paths = weightsPaths(options.cacheDir, entry);
  const status = options.onStatus ?? (() => undefined);
  if (existsSync(paths.safetensors)) return { path: paths.safetensors, source: 'cached', sha256: null, paths };
  await mkdir(paths.folder, { recursive: true });
  const url = options.url ?? entry.url;

  if (existsSync(paths.pth)) {
    status(`found ${paths.pth}; checking its SHA-256`);
    const sha256 = await sha256File(paths.pth);
    if (!sha256.startsWith(entry.sha256Prefix)) {
      throw new WeightsError(
        'hash-mismatch',
        `${paths.pth} has SHA-256 ${sha256}, but ${entry.name} must start with ${entry.sha256Prefix}`,
        `Delete or replace it with the file from ${entry.url}.`,
      );
    }
    await convert(entry, paths.pth, paths, sha256, url, status);
    return { path: paths.safetensors, source: 'local', sha256, paths };
  }

  const attempts = options.attempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    try {
      if (existsSync(paths.part)) status(`resuming the partial download in ${paths.part}`);
      await downloadResumable(url, paths.part, {
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      break;
    } catch (e) {
      if (!(isWeightsError(e) && e.code === 'interrupted') || attempt >= attempts || options.signal?.aborted) throw e;
      status(`${e.message}; retrying (${attempt + 1} of ${attempts})`);
      await new Promise((r) => setTimeout(r, options.retryDelayMs ?? 1000));
    }
  }
  status('checking the SHA-256');
  const sha256 = await sha256File(paths.part);
  if (!sha256.startsWith(entry.sha256Prefix)) {
    await unlink(paths.part);
    throw new WeightsError(
      'hash-mismatch',
      `the file downloaded from ${url} has SHA-256 ${sha256}, but ${entry.name} must start with ${entry.sha256Prefix}; it was deleted and nothing was stored`,
      'The server sent something else (a proxy or captive portal page, or a changed file); try again later or from another network.',
    );
  }
  await convert(entry, paths.part, paths, sha256, url, status);
  await unlink(paths.part);
  return { path: paths.safetensors, source: 'downloaded', sha256, paths };
}

async function convert(
  entry: PretrainedWeights,
  src: string,
  paths: WeightsPaths,
  sha256: string,
  url: string,
  status: (m: string) => void,
): Promise<void> {
  status(`converting to ${paths.safetensors}`);
  await convertToSafetensors(src, paths.safetensors, {
    metadata: { name: entry.name, arch: entry.arch, source: url, source_sha256: sha256, dataset: entry.dataset },
    expectParameters: entry.parameterCount,
  });
}
