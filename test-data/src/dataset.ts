import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { encodePng, imageFromGrey8 } from '@spine/imaging';
import { writeFileAtomic } from '@spine/imaging/node';
import { sampleSubject, type Region, type Sex } from './phantom.js';
import { renderFilm, type RoiBox } from './render.js';

/** One row of labels.csv. */
export interface LabelRow {
  file: string;
  sex: Sex;
  age: number;
  subjectId: string;
  region: Region;
  roi: RoiBox;
}

export interface GenerateOptions {
  region: Region;
  count: number;
  seed: number;
  outDir: string;
  /** Output width in pixels (default: native 1462 cervical / 2048 lumbar). */
  width?: number;
  /** First subject index (default 0); lets a set be split or extended reproducibly. */
  start?: number;
  /** Called after each film, for progress display. */
  onProgress?: (done: number, total: number) => void;
}

export const LABELS_HEADER = 'file,sex,age,subject_id,region,roi_x,roi_y,roi_width,roi_height';

export function labelsCsv(rows: readonly LabelRow[]): string {
  const lines = rows.map((r) =>
    [r.file, r.sex, r.age, r.subjectId, r.region, r.roi.x, r.roi.y, r.roi.width, r.roi.height].join(','),
  );
  return `${LABELS_HEADER}\n${lines.join('\n')}\n`;
}

/**
 * Renders `count` films into `outDir` as PNG plus `labels.csv` (file, sex, age, subject id,
 * region, ROI box) and `rois.json`. Every file is written atomically, and the same options give
 * byte-identical files, so a rerun never corrupts or changes an existing set.
 */
export async function generateDataset(options: GenerateOptions): Promise<LabelRow[]> {
  const { region, count, seed, outDir } = options;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
  if (!Number.isInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
  await fs.mkdir(outDir, { recursive: true });
  const start = options.start ?? 0;
  const rows: LabelRow[] = [];
  for (let k = 0; k < count; k++) {
    const index = start + k;
    const params = sampleSubject(region, seed, index);
    const film = renderFilm(params, seed + index, options.width);
    const file = `${region}-${String(seed).padStart(4, '0')}-${String(index).padStart(5, '0')}.png`;
    // Small films get the slow, tight PNG settings (cheap at that size, and they are what gets
    // committed); full-size films the fast ones, so writing keeps up with rendering.
    const small = film.width * film.height < 1_000_000;
    const png = encodePng(imageFromGrey8(film.width, film.height, film.pixels), {
      deflateLevel: small ? 9 : 6,
      filterType: small ? -1 : 1,
    });
    await writeFileAtomic(join(outDir, file), png);
    rows.push({ file, sex: params.sex, age: params.age, subjectId: params.subjectId, region, roi: film.roi });
    options.onProgress?.(k + 1, count);
  }
  await writeFileAtomic(join(outDir, 'labels.csv'), labelsCsv(rows));
  const rois = Object.fromEntries(rows.map((r) => [r.file, r.roi]));
  await writeFileAtomic(join(outDir, 'rois.json'), `${JSON.stringify(rois, null, 1)}\n`);
  return rows;
}
