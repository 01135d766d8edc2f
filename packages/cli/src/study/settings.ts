/**
 * What a study is: its scale, its regions, where each region's films and ROI reference films come
 * from, and the training flags each approach gets at that scale. The settings are recorded in
 * study.json; a rerun with other settings is refused (settingsChanges names what differs).
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SAMPLE } from '@spine/test-data/sample-spec';
import { CliError } from '../ui/errors.js';
import { syntheticSetDir, type SyntheticSet } from '../run/synthetic-sets.js';

export const SCALES = ['smoke', 'paper'] as const;
export type Scale = (typeof SCALES)[number];
export const REGIONS = ['cervical', 'lumbar'] as const;
export type Region = (typeof REGIONS)[number];

/** A region's films: a data folder and its labels CSV (null: DIR/labels.csv or class folders). */
export interface DataSource {
  root: string;
  labels: string | null;
  /** The cache's synthetic set these films are, or null for the user's own data. */
  synthetic: SyntheticSet | null;
}

export interface StudySettings {
  scale: Scale;
  regions: Region[];
  data: Partial<Record<Region, DataSource>>;
  /** ROI reference films (a folder with rois.json) per region; null: no ROI step for that region. */
  roiReference: Partial<Record<Region, DataSource | null>>;
}

/**
 * What each scale trains. smoke: every step of the pipeline on small synthetic films in a few
 * minutes on a CPU (the quick network at 32 px, 8 epochs; DenseNet-121 at 32 px for 1 epoch);
 * paper: Xue et al.'s settings through the paper presets (227 px, batch 10, 60 epochs for the
 * sequential CNN; 224 px, batch 4, 60 epochs for DenseNet-121).
 */
export interface ScaleSpec {
  /** The default synthetic set of each region: films and width. */
  films: { count: number; width: number };
  references: { count: number; width: number };
  seqcnn: string[];
  seqcnnRoi: string[];
  densenet: (region: Region) => string[];
  /** roi crop flags beyond the paper's square (1400 px at 1462 px width). */
  crop: string[];
}

export const SCALE_SPECS: Record<Scale, ScaleSpec> = {
  smoke: {
    films: { count: 300, width: 64 },
    references: { count: 40, width: 64 },
    seqcnn: ['--preset', 'quick', '--input-size', '32', '--epochs', '8', '--batch-size', '16'],
    seqcnnRoi: ['--preset', 'quick', '--input-size', '32', '--epochs', '8', '--batch-size', '16'],
    densenet: (region) => [
      '--preset',
      `paper-densenet-${region}`,
      '--input-size',
      '32',
      '--epochs',
      '1',
      '--batch-size',
      '16',
    ],
    crop: [],
  },
  paper: {
    films: { count: 2000, width: 256 },
    references: { count: SAMPLE.roiReference.count, width: 256 },
    seqcnn: ['--preset', 'paper-seqcnn'],
    seqcnnRoi: ['--preset', 'paper-seqcnn-roi'],
    densenet: (region) => ['--preset', `paper-densenet-${region}`],
    // The paper's 1400 px squares shrink to 227 px at the network; 256 px keeps more than that
    // and saves decoding full-size crops every epoch.
    crop: ['--size', '256'],
  },
};

/** The synthetic films a region defaults to at a scale (the sample's phantom seed per region). */
export function defaultSyntheticSet(region: Region, scale: Scale): SyntheticSet {
  const { count, width } = SCALE_SPECS[scale].films;
  return { region, seed: SAMPLE[region].seed, count, width };
}

/** The synthetic ROI reference films of a region (rois.json holds their true boxes). */
export function defaultReferenceSet(region: Region, scale: Scale): SyntheticSet {
  const { count, width } = SCALE_SPECS[scale].references;
  return { region, seed: SAMPLE.roiReference.seed, count, width };
}

/** --cervical / --lumbar: a data folder, or a labels CSV whose folder holds the films. */
export function dataSourceFlag(flag: string, value: string): DataSource {
  const path = resolve(value);
  if (!existsSync(path))
    throw new CliError(
      `--${flag} ${path}: no such file or folder`,
      'Give the folder of films (with labels.csv or female/ and male/ folders) or a labels CSV.',
    );
  if (statSync(path).isDirectory()) return { root: path, labels: null, synthetic: null };
  if (!/\.csv$/i.test(path))
    throw new CliError(
      `--${flag} ${path} is neither a folder nor a .csv file`,
      'Give the folder of films or its labels CSV.',
    );
  return { root: dirname(path), labels: path, synthetic: null };
}

export function syntheticSource(set: SyntheticSet, cacheDir?: string): DataSource {
  return { root: syntheticSetDir(set, cacheDir), labels: null, synthetic: set };
}

/** The settings that differ between a recorded study and this command, as flags in words. */
export function settingsChanges(before: StudySettings, now: StudySettings): string[] {
  const changes: string[] = [];
  const show = (v: unknown) => (v === undefined || v === null ? 'none' : typeof v === 'string' ? v : JSON.stringify(v));
  const source = (s: DataSource | null | undefined) => (s ? (s.labels ?? s.root) : null);
  if (before.scale !== now.scale) changes.push(`--scale was ${before.scale}, now ${now.scale}`);
  if (before.regions.join(',') !== now.regions.join(','))
    changes.push(`--regions was ${before.regions.join(',')}, now ${now.regions.join(',')}`);
  for (const region of REGIONS) {
    const [a, b] = [source(before.data[region]), source(now.data[region])];
    if (a !== b) changes.push(`--${region} was ${show(a)}, now ${show(b)}`);
    const [ra, rb] = [source(before.roiReference[region]), source(now.roiReference[region])];
    if (ra !== rb) changes.push(`the ${region} ROI reference films were ${show(ra)}, now ${show(rb)}`);
  }
  return changes;
}
