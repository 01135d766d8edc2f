/**
 * The study's splits. Each region gets one split of its films, used by every approach, so the
 * approaches are compared on the same test films: the paper's counts (Table 1 for cervical, 5 for
 * lumbar) when the data has at least that many films of each sex (NHANES II has exactly that
 * many), otherwise the paper's train/val/test fractions. The ROI crops get the same split under
 * the crops' names (a film whose crop failed is left out of it).
 */
import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { Dataset, DatasetRecord, DatasetSplit, SplitCounts } from '@spine/models';
import {
  classCounts,
  loadCsvDataset,
  loadFolderDataset,
  loadSplit,
  PAPER_SPLITS,
  saveSplit,
  stratifiedSplit,
} from '@spine/models';
import { CliError } from '../ui/errors.js';
import type { DataSource, Region } from './settings.js';

export interface PlannedSplit {
  how: 'paper counts' | 'paper fractions';
  fractions?: [number, number, number];
  counts?: SplitCounts;
}

/** The paper's split sizes as fractions of the region's films (cervical 7680/960/1027 of 9667). */
export function paperFractions(counts: SplitCounts): [number, number, number] {
  const sizes = (['train', 'val', 'test'] as const).map((s) => counts[s].female + counts[s].male);
  const total = sizes[0]! + sizes[1]! + sizes[2]!;
  return [sizes[0]! / total, sizes[1]! / total, 1 - sizes[0]! / total - sizes[1]! / total];
}

export function planSplit(region: Region, dataset: Dataset): PlannedSplit {
  const paper = PAPER_SPLITS[region];
  const [female, male] = classCounts(dataset.records);
  const need = (sex: 'female' | 'male') => paper.train[sex] + paper.val[sex] + paper.test[sex];
  if (female >= need('female') && male >= need('male')) return { how: 'paper counts', counts: paper };
  return { how: 'paper fractions', fractions: paperFractions(paper) };
}

export async function loadSource(source: DataSource): Promise<Dataset> {
  if (!existsSync(source.root))
    throw new CliError(
      `data folder ${source.root} does not exist`,
      'Pass the folder that holds the films (--cervical, --lumbar).',
    );
  if (source.labels !== null || existsSync(join(source.root, 'labels.csv'))) {
    return loadCsvDataset(source.root, {
      ...(source.labels !== null ? { labels: source.labels } : {}),
      imageCheck: 'header',
    });
  }
  return loadFolderDataset(source.root, { imageCheck: 'header' });
}

/** Makes (or keeps, when it is already there) the region's split.json; returns the split. */
export async function writeRegionSplit(
  region: Region,
  source: DataSource,
  path: string,
  seed: number,
): Promise<{ split: DatasetSplit; plan: PlannedSplit }> {
  const dataset = await loadSource(source);
  const plan = planSplit(region, dataset);
  const split = stratifiedSplit(dataset, {
    seed,
    ...(plan.counts ? { counts: plan.counts } : { fractions: plan.fractions! }),
  });
  await saveSplit(path, split);
  return { split, plan };
}

/** The crop of a film, as roi crop names it: the film's relative name with a .png extension. */
export function cropFileName(file: string): string {
  const ext = extname(file);
  return `${ext ? file.slice(0, -ext.length) : file}.png`;
}

/** The region's split carried over to the crops: each film's crop in its film's part. */
export async function writeCropSplit(
  filmSplitPath: string,
  films: DataSource,
  crops: DataSource,
  path: string,
): Promise<DatasetSplit> {
  const filmSplit = await loadSplit(filmSplitPath, await loadSource(films));
  const cropData = await loadSource(crops);
  const byName = new Map(cropData.records.map((r) => [r.file, r]));
  const placed = new Set<string>();
  const carry = (records: readonly DatasetRecord[]) =>
    records.flatMap((r) => {
      const crop = byName.get(cropFileName(r.file));
      if (!crop) return [];
      placed.add(crop.file);
      return [crop];
    });
  const split: DatasetSplit = {
    seed: filmSplit.seed,
    ...(filmSplit.fractions ? { fractions: filmSplit.fractions } : {}),
    ...(filmSplit.counts ? { counts: filmSplit.counts } : {}),
    groupedBySubject: filmSplit.groupedBySubject,
    train: carry(filmSplit.train),
    val: carry(filmSplit.val),
    test: carry(filmSplit.test),
    unused: [...carry(filmSplit.unused), ...cropData.records.filter((r) => !placed.has(r.file))],
  };
  await saveSplit(path, split);
  return split;
}
