/** What roi crop reads and writes besides the crops: the film list, manifest.csv, labels.csv for the crops, accuracy against true ROIs. */
import { existsSync, promises as fs } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { centreDistance, containment, distribution, iou, paddingFraction } from '@spine/cbir';
import { walkFiles } from '@spine/models/walk';
import { IMAGE_EXTENSIONS } from '../predict/image-files.js';
import { CliError } from '../ui/errors.js';

type Box = { x: number; y: number; width: number; height: number };

/** One line of manifest.jsonl: a cropped film, or one that failed (error). */
export interface JournalEntry {
  /** The film's name relative to --data. */
  file: string;
  /** The crop's name relative to --out (absent when the film failed). */
  crop?: string;
  match?: string;
  distance?: number;
  width?: number;
  height?: number;
  centre?: { x: number; y: number };
  box?: Box;
  /** The match's ROI mapped into the film. */
  roi?: Box;
  error?: string;
}
export type Journal = Map<string, JournalEntry>;

export interface LabelsTable {
  path: string;
  header: string[];
  rows: string[][];
}

const ROI_COLUMNS = ['roi_x', 'roi_y', 'roi_width', 'roi_height'] as const;

/** The films of --data: the file column of labels.csv when there is one, else the image files in the folder (sorted). */
export async function readFilmList(dir: string): Promise<{ files: string[]; labels: LabelsTable | null }> {
  const st = await fs.stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new CliError(`${dir} is not a folder`, 'Give --data the folder that holds the films.');
  const labelsPath = join(dir, 'labels.csv');
  if (existsSync(labelsPath)) {
    const table = parseCsv(await fs.readFile(labelsPath, 'utf8'), labelsPath);
    const col = table.header.indexOf('file');
    if (col < 0) throw new CliError(`${labelsPath}: no 'file' column (header: ${table.header.join(',')})`);
    return { files: table.rows.map((r) => r[col]!), labels: table };
  }
  // Links to films count as films, as in predict and the dataset loader; a broken one is named.
  const walked = await walkFiles(dir, {
    accept: (name) => IMAGE_EXTENSIONS.has(extname(name).toLowerCase()),
    recursive: false,
  });
  for (const p of walked.problems) process.stderr.write(`${p.path}: ${p.problem}\n`);
  return { files: walked.files.map((f) => basename(f)), labels: null };
}

/** A small RFC 4180 reader (quoted fields, doubled quotes); every row must have the header's width. */
function parseCsv(text: string, path: string): LabelsTable {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.some((f) => f !== '')) rows.push(row);
      row = [];
    } else field += c;
  }
  row.push(field);
  if (row.some((f) => f !== '')) rows.push(row);
  const [header, ...body] = rows;
  if (!header) throw new CliError(`${path} is empty`);
  body.forEach((r, i) => {
    if (r.length !== header.length)
      throw new CliError(`${path}: line ${i + 2} has ${r.length} fields, the header has ${header.length}`);
  });
  return { path, header, rows: body };
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const num = (v: number | undefined, digits = 2): string =>
  v === undefined ? '' : Number.isInteger(v) ? String(v) : v.toFixed(digits);

export function manifestCsv(entries: readonly JournalEntry[]): string {
  const header = 'source,crop,match,distance,film_width,film_height,centre_x,centre_y,box_x,box_y,box_size,error';
  const rows = entries.map((e) =>
    [
      csvField(e.file),
      csvField(e.crop ?? ''),
      csvField(e.match ?? ''),
      e.distance === undefined ? '' : e.distance.toFixed(6),
      num(e.width),
      num(e.height),
      num(e.centre?.x),
      num(e.centre?.y),
      num(e.box?.x),
      num(e.box?.y),
      num(e.box?.width),
      csvField(e.error ?? ''),
    ].join(','),
  );
  return `${[header, ...rows].join('\n')}\n`;
}

/**
 * labels.csv for the crops: the source rows of films that were cropped, the file column renamed to
 * the crop, and the true ROI (when the labels have roi_* columns) moved into crop pixels. The box
 * may reach past the crop where the crop missed part of it.
 */
export function croppedLabels(labels: LabelsTable, journal: Journal, size: number | undefined): string {
  const fileCol = labels.header.indexOf('file');
  const roiCols = ROI_COLUMNS.map((c) => labels.header.indexOf(c));
  const hasRoi = roiCols.every((c) => c >= 0);
  const out = [labels.header.map(csvField).join(',')];
  for (const row of labels.rows) {
    const e = journal.get(row[fileCol]!);
    if (e?.crop === undefined || e.box === undefined) continue;
    const r = [...row];
    r[fileCol] = e.crop;
    if (hasRoi) {
      const f = size !== undefined ? size / e.box.width : 1;
      const [x, y, w, h] = roiCols.map((c) => Number(row[c]));
      if ([x, y, w, h].every((v) => Number.isFinite(v))) {
        r[roiCols[0]!] = String(Math.round((x! - e.box.x) * f));
        r[roiCols[1]!] = String(Math.round((y! - e.box.y) * f));
        r[roiCols[2]!] = String(Math.round(w! * f));
        r[roiCols[3]!] = String(Math.round(h! * f));
      }
    }
    out.push(r.map(csvField).join(','));
  }
  return `${out.join('\n')}\n`;
}

export interface AccuracyReport {
  films: number;
  centreErrorFullSizePx: ReturnType<typeof distribution>;
  centreErrorPercentWidth: ReturnType<typeof distribution>;
  iou: ReturnType<typeof distribution>;
  containment: ReturnType<typeof distribution>;
  /** The share of each crop outside its film (black padding). */
  padding: ReturnType<typeof distribution>;
  fullyContained: number;
  perFilm: { file: string; centreErrorPx: number; iou: number; containment: number; padding: number }[];
}

/** Transferred ROI against the true ROI of every cropped film whose labels carry one; null without roi_* columns. */
export function accuracyReport(labels: LabelsTable, journal: Journal): AccuracyReport | null {
  const fileCol = labels.header.indexOf('file');
  const roiCols = ROI_COLUMNS.map((c) => labels.header.indexOf(c));
  if (!roiCols.every((c) => c >= 0)) return null;
  const perFilm: AccuracyReport['perFilm'] = [];
  const fullSize: number[] = [];
  const percent: number[] = [];
  for (const row of labels.rows) {
    const e = journal.get(row[fileCol]!);
    if (
      e?.crop === undefined ||
      e.box === undefined ||
      e.roi === undefined ||
      e.width === undefined ||
      e.height === undefined
    )
      continue;
    const [x, y, width, height] = roiCols.map((c) => Number(row[c]));
    if (![x, y, width, height].every((v) => Number.isFinite(v))) continue;
    const truth = { x: x!, y: y!, width: width!, height: height! };
    const err = centreDistance(e.roi, truth);
    perFilm.push({
      file: e.file,
      centreErrorPx: err,
      iou: iou(e.roi, truth),
      containment: containment(e.box, truth),
      padding: paddingFraction(e.box, { width: e.width, height: e.height }),
    });
    fullSize.push((err * 1462) / e.width);
    percent.push((100 * err) / e.width);
  }
  if (perFilm.length === 0) return null;
  return {
    films: perFilm.length,
    centreErrorFullSizePx: distribution(fullSize),
    centreErrorPercentWidth: distribution(percent),
    iou: distribution(perFilm.map((p) => p.iou)),
    containment: distribution(perFilm.map((p) => p.containment)),
    padding: distribution(perFilm.map((p) => p.padding)),
    fullyContained: perFilm.filter((p) => p.containment >= 1 - 1e-9).length,
    perFilm,
  };
}
