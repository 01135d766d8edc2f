/**
 * spine-cli export-web: a trained run as a static web page (packages/web's build) plus the model
 * in one self-describing safetensors file, ready for any static host. The page runs the network
 * with WebGPU in the visitor's browser; films never leave their machine. Without a RUN only the
 * page is written: it trains a model in the browser, or loads one the user picks.
 */
import { existsSync, promises as fs } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inputTransform, webModelMetadata, writeFileAtomic } from '@spine/models';
import { encodeSafetensors } from '@spine/nn';
import { releaseDevice } from '@spine/tensor/node';
import { applyRunCheckpoint, readRunCheckpoint } from '../run/checkpoint.js';
import { buildModel, readRunRecord, readyDevice } from '../run/run-dir.js';
import { choiceFlag, probabilityFlag } from '../ui/args.js';
import { CliError, EXIT_OK, UsageError } from '../ui/errors.js';
import { cliVersion } from '../version.js';
import type { CommandContext, Values } from './command.js';

const NAME = 'export-web';
/** The page's index.html carries this; a folder holding it is a previous export, safe to refresh. */
const PAGE_MARKER = '<meta name="generator" content="spine-web">';
export const WEB_MODEL_FILE = 'model.safetensors';

export async function run(values: Values, context: CommandContext): Promise<number> {
  if (context.positionals.length > 1)
    throw new UsageError(`export-web takes at most one RUN folder, got ${context.positionals.length}`, NAME);
  const out = resolve(values.out as string);
  if (context.positionals.length === 0) return pageOnly(values, out);
  const runDir = resolve(context.positionals[0]!);
  const which = choiceFlag(NAME, 'checkpoint', (values.checkpoint as string | undefined) ?? 'best', [
    'best',
    'last',
  ] as const);
  const verdict = {
    threshold: probabilityFlag(NAME, 'threshold', (values.threshold as string | undefined) ?? '0.5'),
    uncertainBelow: probabilityFlag(
      NAME,
      'uncertain-below',
      (values['uncertain-below'] as string | undefined) ?? '0.6',
    ),
  };
  const record = await readRunRecord(runDir);
  const page = await pageFiles();
  await checkOutDir(out);
  const ckpt = await readRunCheckpoint(runDir, which);
  // Loading it into the network config.json describes finds a checkpoint of another network here,
  // as in the other commands, instead of in the visitor's browser.
  await readyDevice();
  const network = buildModel(record.config);
  try {
    applyRunCheckpoint(runDir, ckpt, network);
  } finally {
    network.dispose();
    await releaseDevice();
  }
  const metadata = webModelMetadata(record.config.model, inputTransform(record.config.model), verdict, {
    run: basename(runDir),
    checkpoint: which,
    epoch: ckpt.meta.epoch,
    savedAt: ckpt.meta.savedAt,
    gitCommit: record.gitCommit,
    spineCli: cliVersion(),
  });
  const model = encodeSafetensors(ckpt.model, metadata);
  await fs.mkdir(out, { recursive: true });
  await writeFileAtomic(join(out, WEB_MODEL_FILE), model);
  await writePage(page, out);
  const size =
    model.byteLength >= 2 ** 20
      ? `${(model.byteLength / 2 ** 20).toFixed(1)} MiB`
      : `${Math.ceil(model.byteLength / 1024)} KiB`;
  process.stderr.write(
    `Wrote ${out}: ${page.map((f) => basename(f)).join(', ')}, ${WEB_MODEL_FILE} (${size}, ${which} checkpoint, epoch ${ckpt.meta.epoch}).\n` +
      `Serve the folder with any static web server and open it over http://localhost or https://, e.g. 'npx http-server ${out}' or 'python3 -m http.server -d ${out}'.\n`,
  );
  return EXIT_OK;
}

/** The page without a model: it trains one in the browser or loads a file the user picks. */
async function pageOnly(values: Values, out: string): Promise<number> {
  const runFlags = ['checkpoint', 'threshold', 'uncertain-below'].filter((f) => values[f] !== undefined);
  if (runFlags.length > 0)
    throw new UsageError(`--${runFlags.join(', --')} need${runFlags.length === 1 ? 's' : ''} a RUN to export`, NAME);
  const page = await pageFiles();
  await checkOutDir(out);
  await fs.mkdir(out, { recursive: true });
  // A previous export's model would be loaded by the page; this export has none.
  await fs.rm(join(out, WEB_MODEL_FILE), { force: true });
  await writePage(page, out);
  process.stderr.write(
    `Wrote ${out}: ${page.map((f) => basename(f)).join(', ')} (no model: the page trains one from a folder of films, or loads a model file).\n` +
      `Serve the folder with any static web server and open it over http://localhost or https://, e.g. 'npx http-server ${out}' or 'python3 -m http.server -d ${out}'.\n`,
  );
  return EXIT_OK;
}

/** Copies the page's files, index.html last: it is the marker that makes the folder a (complete) export. */
async function writePage(page: readonly string[], out: string): Promise<void> {
  for (const file of [...page].sort((a, b) => Number(a.endsWith('index.html')) - Number(b.endsWith('index.html'))))
    await writeFileAtomic(join(out, basename(file)), await fs.readFile(file));
}

/** The built page (packages/web/dist), without source maps. */
async function pageFiles(): Promise<string[]> {
  let dist: string;
  try {
    dist = join(dirname(fileURLToPath(import.meta.resolve('@spine/web/package.json'))), 'dist');
  } catch (e) {
    throw new CliError(
      'the web page package @spine/web is not installed',
      'Install spine-cli with its workspace (npm ci at the repository root).',
      { cause: e },
    );
  }
  const files = existsSync(dist) ? (await fs.readdir(dist)).filter((f) => !f.endsWith('.map')) : [];
  if (!files.includes('index.html') || !files.includes('app.js'))
    throw new CliError(
      `the web page is not built (${dist} has no index.html and app.js)`,
      "Build it: 'npm run build -w @spine/web' (or 'npm run build' at the repository root).",
    );
  return files.map((f) => join(dist, f));
}

async function checkOutDir(out: string): Promise<void> {
  const stat = await fs.stat(out).catch(() => undefined);
  if (!stat) return;
  if (!stat.isDirectory())
    throw new CliError(`--out ${out} exists and is not a folder`, 'Choose a new or empty folder.');
  const entries = await fs.readdir(out);
  if (entries.length === 0) return;
  const index = entries.includes('index.html') ? await fs.readFile(join(out, 'index.html'), 'utf8') : '';
  if (!index.includes(PAGE_MARKER))
    throw new CliError(
      `--out ${out} is not empty and holds no page from export-web`,
      'Choose a new or empty folder (nothing there was changed).',
    );
}
