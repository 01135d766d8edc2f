/** The actions of spine-cli weights (fetch, import, inspect, list); commands/weights.ts parses the command line. */
import { existsSync } from 'node:fs';
import {
  convertToSafetensors,
  fetchPretrainedWeights,
  findPretrained,
  inspectWeightsFile,
  isWeightsError,
  PRETRAINED_NAMES,
  PRETRAINED_WEIGHTS,
  resolveCacheDir,
  weightsPaths,
} from '@spine/models';
import { CliError, EXIT_OK, UsageError } from '../ui/errors.js';
import { Progress } from '../ui/progress.js';
import { formatTable } from '../ui/table.js';
import { weightsCliError } from './errors.js';

const MiB = 2 ** 20;
const log = (s: string) => process.stderr.write(`${s}\n`);

/** How to get the weights without `weights fetch` reaching the network. */
export function manualDownloadHint(name: string, url: string, pth: string, safetensors: string): string {
  return [
    `Download ${url} by hand (a browser, or: curl -L -o ${pth} ${url}), save it as`,
    `  ${pth}`,
    `and run 'spine-cli weights fetch ${name}' again: it checks the SHA-256 and converts the file without the network.`,
    `A copy elsewhere can also be converted with: spine-cli weights import FILE --out ${safetensors}`,
  ].join('\n');
}

export async function weightsFetch(name: string, o: { cacheDir?: string; url?: string }): Promise<number> {
  const entry = findPretrained(name);
  if (!entry) throw new UsageError(`unknown weights '${name}'; available: ${PRETRAINED_NAMES.join(', ')}`, 'weights');
  const cacheDir = resolveCacheDir(o.cacheDir ? { dir: o.cacheDir } : {});
  const paths = weightsPaths(cacheDir, entry);
  const url = o.url ?? entry.url;
  let bar: Progress | undefined;
  try {
    const r = await fetchPretrainedWeights(entry, {
      cacheDir,
      ...(o.url ? { url: o.url } : {}),
      onStatus: (s) => {
        bar?.finish();
        bar = undefined;
        log(s);
      },
      onProgress: (p) => {
        if (p.total === null) return;
        if (!bar) {
          log(`downloading ${url}${p.resumedFrom ? ` (resuming at ${(p.resumedFrom / MiB).toFixed(1)} MiB)` : ''}`);
          bar = new Progress(Math.ceil(p.total / MiB), { unit: 'MiB', label: name });
        }
        bar.update(p.received >= p.total ? bar.total : Math.floor(p.received / MiB));
      },
    });
    bar?.finish();
    const how =
      r.source === 'cached'
        ? 'already in the cache'
        : r.source === 'local'
          ? `converted from ${paths.pth} (SHA-256 ${r.sha256})`
          : `downloaded and verified (SHA-256 ${r.sha256})`;
    process.stdout.write(`${entry.name}: ${how}\n${r.path}\n`);
    return EXIT_OK;
  } catch (e) {
    bar?.finish();
    if (isWeightsError(e) && (e.code === 'offline' || e.code === 'http')) {
      throw new CliError(e.message, manualDownloadHint(entry.name, entry.url, paths.pth, paths.safetensors), {
        cause: e,
      });
    }
    throw weightsCliError(e);
  }
}

export async function weightsImport(file: string, o: { out?: string; force: boolean }): Promise<number> {
  const out = o.out ?? file.replace(/\.(pth|pt|bin|ckpt|tar)$/i, '') + '.safetensors';
  if (out === file) throw new UsageError(`--out must differ from the input file (${file})`, 'weights');
  if (existsSync(out) && !o.force)
    throw new CliError(`${out} already exists`, 'Pass --force to replace it, or choose another --out.');
  try {
    const r = await convertToSafetensors(file, out);
    const renamed = r.renamedKeys ? `; ${r.renamedKeys} legacy DenseNet keys renamed (norm.1 -> norm1)` : '';
    process.stdout.write(
      `${file} (${r.sourceFormat}): ${r.tensorCount} tensors, ${r.parameterCount.toLocaleString('en-US')} parameters${renamed}\nWrote ${out}\n`,
    );
    return EXIT_OK;
  } catch (e) {
    throw weightsCliError(e);
  }
}

export async function weightsInspect(file: string, json: boolean): Promise<number> {
  let s;
  try {
    s = await inspectWeightsFile(file);
  } catch (e) {
    throw weightsCliError(e);
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
    return EXIT_OK;
  }
  const rows = s.tensors.map((t) => [t.key, t.dtype, `[${t.shape.join(', ')}]`, t.numel]);
  const meta = Object.entries(s.metadata).map(([k, v]) => `  ${k}: ${v}`);
  process.stdout.write(
    [
      `${s.path} (${s.format})`,
      ...(meta.length ? ['metadata:', ...meta] : []),
      ...(s.renamedKeys ? [`${s.renamedKeys} legacy DenseNet keys shown renamed (norm.1 -> norm1)`] : []),
      '',
      formatTable(['key', 'dtype', 'shape', 'elements'], rows),
      '',
      `${s.tensors.length} tensors; ${s.parameterCount.toLocaleString('en-US')} parameters, ${s.bufferCount.toLocaleString('en-US')} BatchNorm statistics elements`,
    ].join('\n') + '\n',
  );
  return EXIT_OK;
}

export async function weightsList(o: { cacheDir?: string; json: boolean }): Promise<number> {
  const cacheDir = resolveCacheDir(o.cacheDir ? { dir: o.cacheDir } : {});
  const list = PRETRAINED_WEIGHTS.map((w) => {
    const p = weightsPaths(cacheDir, w);
    return {
      name: w.name,
      url: w.url,
      sha256Prefix: w.sha256Prefix,
      parameterCount: w.parameterCount,
      cached: existsSync(p.safetensors) ? p.safetensors : null,
    };
  });
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ cacheDir, weights: list }, null, 2)}\n`);
    return EXIT_OK;
  }
  const rows = list.map((w) => [w.name, w.parameterCount, w.cached ? 'yes' : 'no', w.url]);
  process.stdout.write(`Cache: ${cacheDir}\n\n${formatTable(['name', 'parameters', 'cached', 'url'], rows)}\n`);
  return EXIT_OK;
}
