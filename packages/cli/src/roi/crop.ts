/**
 * spine-cli roi crop: every film of a folder -> its square ROI crop, with a journal that makes the
 * run resumable, a manifest, a labels file for the crops and (when true boxes are known) accuracy.
 */
import { existsSync, promises as fs } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { CropPool, readIndex } from '@spine/cbir/node';
import { isCbirError, paddingFraction } from '@spine/cbir';
import { writeFileAtomic } from '@spine/imaging/node';
import { isImagingError } from '@spine/imaging';
import { CliError, EXIT_FAILURE, EXIT_OK, UsageError } from '../ui/errors.js';
import { integerFlag } from '../ui/args.js';
import { maxPixelsFlag } from '../ui/max-pixels.js';
import { Progress, formatDuration } from '../ui/progress.js';
import { formatTable } from '../ui/table.js';
import type { Values } from '../ui/args.js';
import { ROI, required } from './flags.js';
import {
  accuracyReport,
  croppedLabels,
  manifestCsv,
  readFilmList,
  type Journal,
  type JournalEntry,
} from './outputs.js';

const JOURNAL = 'manifest.jsonl';
const SETTINGS = 'roi-crop.json';

export async function runRoiCrop(values: Values, workers: number): Promise<number> {
  const indexPath = resolve(required(values, 'index', 'crop', 'the index made by roi index'));
  const data = resolve(required(values, 'data', 'crop', 'the folder of films to crop'));
  const out = resolve(required(values, 'out', 'crop', 'the output folder'));
  const side = integerFlag(ROI, 'side', (values.side as string | undefined) ?? '1400', 1, 65535);
  const atWidth = integerFlag(ROI, 'at-width', (values['at-width'] as string | undefined) ?? '1462', 1, 65535);
  const size = values.size === undefined ? undefined : integerFlag(ROI, 'size', values.size as string, 8, 8192);
  const preview = values.preview === true;
  const keepInside = values['keep-inside'] === true;
  const maxPixels = maxPixelsFlag(ROI, values);
  if (resolve(data) === out) throw new UsageError("--out must differ from --data (crops keep the films' names)", ROI);

  const index = await readIndex(indexPath);
  const referenceDir = values.db !== undefined ? resolve(values.db as string) : index.root;
  if (preview && (referenceDir === undefined || !existsSync(referenceDir))) {
    throw new CliError(
      `--preview needs the reference films, and ${referenceDir ?? 'the index'} ${referenceDir ? 'does not exist' : 'does not record their folder'}`,
      'Pass --db DIR (the folder roi index read).',
    );
  }
  const films = await readFilmList(data);
  if (films.files.length === 0)
    throw new CliError(
      `no films found in ${data}`,
      'Give a folder with labels.csv, or with PNG/TIFF/JPEG/DICOM files.',
    );

  // A rerun must use the same settings, or the folder would mix two kinds of crop.
  const settings = {
    index: indexPath,
    descriptor: index.settings,
    references: index.references.length,
    side,
    atWidth,
    size: size ?? null,
    ...(keepInside ? { keepInside } : {}),
  };
  await fs.mkdir(out, { recursive: true });
  const settingsPath = join(out, SETTINGS);
  if (existsSync(settingsPath)) {
    let before: unknown;
    try {
      before = JSON.parse(await fs.readFile(settingsPath, 'utf8'));
    } catch (e) {
      throw new CliError(
        `${settingsPath} is not valid JSON (${(e as Error).message}), so the crops in ${out} cannot be continued`,
        'Use another --out, or delete that folder to start over.',
        { cause: e },
      );
    }
    if (JSON.stringify(before) !== JSON.stringify(settings)) {
      throw new CliError(
        `${out} holds crops made with other settings (${settingsPath})`,
        'Use another --out, or delete that folder to start over.',
      );
    }
  } else {
    await writeFileAtomic(settingsPath, `${JSON.stringify(settings, null, 2)}\n`);
  }
  const journal = await readJournal(join(out, JOURNAL), out);
  const todo = films.files.filter((f) => journal.get(f)?.crop === undefined);
  const skipped = films.files.length - todo.length;
  if (skipped > 0)
    process.stderr.write(`Resuming: ${skipped} of ${films.files.length} films already cropped in ${out}\n`);

  const pool = await CropPool.create(
    index,
    { crop: { side, atWidth, keepInside }, maxPixels, ...(size !== undefined ? { outputSize: size } : {}) },
    workers,
  );
  const progress = new Progress(todo.length, { unit: 'films', label: 'roi crop' });
  const journalFile = await fs.open(join(out, JOURNAL), 'a');
  let done = 0;
  let failed = 0;
  try {
    // Keep every worker busy with a couple of films in flight; results are journalled as they come.
    const inFlight = Math.max(1, pool.workers * 2);
    let next = 0;
    const runOne = async (): Promise<void> => {
      while (next < todo.length) {
        const file = todo[next++]!;
        const crop = cropName(file);
        let entry: JournalEntry;
        try {
          const r = await pool.crop({
            source: join(data, file),
            out: join(out, crop),
            ...(preview ? { preview: join(out, 'preview', crop), referenceDir: referenceDir! } : {}),
          });
          entry = {
            file,
            crop,
            match: r.match,
            distance: r.distance,
            width: r.width,
            height: r.height,
            centre: r.centre,
            box: r.box,
            roi: r.roi,
          };
        } catch (e) {
          failed++;
          // The reason alone: the manifest has the film in its own column, the summary puts it in front once.
          entry = {
            file,
            error:
              isCbirError(e) || isImagingError(e)
                ? e.reason
                : (e instanceof Error ? e.message : String(e)).split('\n')[0]!,
          };
        }
        journal.set(file, entry);
        await journalFile.appendFile(`${JSON.stringify(entry)}\n`);
        progress.update(++done, failed ? `${failed} failed` : undefined);
      }
    };
    await Promise.all(Array.from({ length: Math.min(inFlight, todo.length) }, runOne));
  } finally {
    await journalFile.close();
    await pool.close();
  }
  if (todo.length > 0) progress.finish();

  const entries = films.files.map((f) => journal.get(f)).filter((e): e is JournalEntry => e !== undefined);
  await writeFileAtomic(join(out, 'manifest.csv'), manifestCsv(entries));
  const cropped = entries.filter((e) => e.crop !== undefined);
  const lines = [
    `Cropped ${cropped.length} of ${films.files.length} films into ${out}${todo.length ? ` (${todo.length} this run in ${formatDuration(progress.elapsedSeconds())}, ${(todo.length / Math.max(progress.elapsedSeconds(), 1e-9)).toFixed(1)} films/s, ${pool.workers} workers)` : ''}`,
  ];
  lines.push(
    `Square: ${side} px at width ${atWidth} (scaled per film)${keepInside ? ', kept inside the film' : ''}${size !== undefined ? `, written at ${size}x${size}` : ''}; manifest: ${join(out, 'manifest.csv')}`,
  );
  const padded = cropped.map((e) => paddingFraction(e.box!, { width: e.width!, height: e.height! }));
  const overhanging = padded.filter((p) => p > 0).length;
  if (overhanging > 0)
    lines.push(
      `Padding: ${overhanging} of ${cropped.length} crops reach past their film (black on up to ${(100 * Math.max(...padded)).toFixed(1)}% of a crop)${keepInside ? '' : '; --keep-inside shifts the square onto the film'}`,
    );
  else if (cropped.length > 0) lines.push('Padding: none, every square lies on its film');
  if (films.labels) {
    await writeFileAtomic(join(out, 'labels.csv'), croppedLabels(films.labels, journal, size));
    lines.push(`Labels for the crops: ${join(out, 'labels.csv')}`);
    const accuracy = accuracyReport(films.labels, journal);
    if (accuracy) {
      await writeFileAtomic(join(out, 'roi-accuracy.json'), `${JSON.stringify(accuracy, null, 2)}\n`);
      const row = (
        name: string,
        d: { mean: number; median: number; p90: number; max: number; min: number },
      ): (string | number)[] => [name, d.mean, d.median, d.p90, d.min, d.max];
      lines.push(
        '',
        `Against the true ROI boxes in labels.csv (${accuracy.films} films):`,
        formatTable(
          ['measure', 'mean', 'median', 'p90', 'min', 'max'],
          [
            row('centre error (px at 1462 width)', accuracy.centreErrorFullSizePx),
            row('centre error (% of film width)', accuracy.centreErrorPercentWidth),
            row('IoU, match ROI vs true ROI', accuracy.iou),
            row('true ROI inside the crop', accuracy.containment),
            row('padding (share of the crop)', accuracy.padding),
          ],
        ),
        `Films whose whole true ROI is inside the crop: ${accuracy.fullyContained} of ${accuracy.films}`,
      );
    }
  }
  if (failed > 0 || cropped.length < films.files.length) {
    const bad = entries.filter((e) => e.error !== undefined);
    lines.push(
      '',
      `${bad.length} film(s) could not be cropped (listed in manifest.csv; a rerun retries them):`,
      ...bad.slice(0, 10).map((e) => `  ${e.file}: ${e.error}`),
    );
    if (bad.length > 10) lines.push(`  ... and ${bad.length - 10} more`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return cropped.length === 0 ? EXIT_FAILURE : EXIT_OK;
}

/** The crop's name: the film's relative name with a .png extension. */
function cropName(file: string): string {
  const ext = extname(file);
  return `${ext ? file.slice(0, -ext.length) : file}.png`;
}

/** The journal of earlier runs; a crop whose file is gone (or a half-written last line) counts as not done. */
async function readJournal(path: string, out: string): Promise<Journal> {
  const journal: Journal = new Map();
  if (!existsSync(path)) return journal;
  for (const line of (await fs.readFile(path, 'utf8')).split('\n')) {
    if (!line.trim()) continue;
    let e: JournalEntry;
    try {
      e = JSON.parse(line) as JournalEntry;
    } catch {
      continue;
    }
    if (typeof e.file !== 'string') continue;
    if (e.crop !== undefined && !existsSync(join(out, e.crop))) continue;
    journal.set(e.file, e);
  }
  await fs.mkdir(dirname(path), { recursive: true });
  return journal;
}
