/** spine-cli roi: the paper's CBIR ROI step, `roi index` (reference films -> index) and `roi crop` (films -> square crops). */
import { availableParallelism } from 'node:os';
import { integerFlag } from '../ui/args.js';
import { MAX_PIXELS_OPTION } from '../ui/max-pixels.js';
import { UsageError } from '../ui/errors.js';
import type { Command, Values } from './command.js';
import { runRoiCrop } from './roi-crop.js';
import { ROI } from './roi-flags.js';
import { runRoiIndex } from './roi-index.js';

const INDEX_FLAGS = ['db', 'out', 'working-width', 'bins', 'angle', 'levels', 'workers', 'max-pixels'];
const CROP_FLAGS = [
  'index',
  'data',
  'out',
  'side',
  'at-width',
  'keep-inside',
  'size',
  'preview',
  'db',
  'workers',
  'max-pixels',
];

export const roiCommand: Command = {
  name: ROI,
  summary:
    'Find the spinal ROI by image retrieval (PHOG + nearest neighbour) and cut square crops (paper, Approach I on ROIs).',
  usage: [
    'roi index --db DIR --out INDEX.json [--working-width N|native] [--bins B] [--angle 180|360] [--levels L]',
    '       roi crop --index INDEX.json --data DIR --out DIR [--side PX] [--at-width PX] [--keep-inside] [--size N] [--preview]',
  ].join('\n'),
  positionals: 'index|crop',
  description: [
    'roi index describes every film listed in DIR/rois.json (film name -> ROI box {x, y, width, height}, the',
    'layout spine-cli synth writes) with the PHOG descriptor of its Canny edges (MATLAB anna_phog.m: 8 bins over',
    '360 degrees, 3 pyramid levels by default) and saves a versioned index.',
    '',
    "roi crop finds each film's nearest reference by Euclidean distance between descriptors, takes the centre of",
    "that reference's ROI (scaled to the film), and cuts a square centred there: --side pixels on a film",
    "--at-width pixels wide (the paper: 1400 on the 1462 px cervical films), scaled with the film's width,",
    'padded with black where it leaves the film. --keep-inside instead shifts the square the least distance',
    "that keeps it on the film (not the paper's rule: the ROI is then off-centre near the edges); only where",
    'the square is longer than the film is it centred on the film and padded, along that side alone. Films',
    'come from DIR/labels.csv when it exists (else every image file in DIR). OUT gets the crops (8-bit grey',
    'PNG, same relative names, so a split.json made for DIR applies), manifest.csv (source, crop, match,',
    'distance, centre, box, error), labels.csv for the crops (ROI columns moved into crop coordinates) and,',
    'when the labels carry true ROI boxes (synthetic films do), roi-accuracy.json with the centre error, IoU,',
    'the share of the true box inside the crop and the share of each crop that is padding. A rerun',
    'skips films already cropped (manifest.jsonl is the journal); a film that fails is recorded and retried on',
    "the next run, the others go on. --preview adds preview/NAME.png like the paper's Figure 6.",
    '',
    "Descriptors are computed on films resized to the index's working width (default 256 px, or the first",
    "reference film's width when smaller): at native size PHOG costs ~40x more and matched worse on",
    'the synthetic films; --working-width native reproduces the reference code exactly.',
  ].join('\n'),
  options: {
    db: {
      type: 'string',
      value: 'DIR',
      description: 'index: reference films and their rois.json. crop: where previews find the references.',
      defaultText: 'crop: the folder recorded in the index',
    },
    index: { type: 'string', value: 'FILE', description: 'crop: the index made by roi index.' },
    data: { type: 'string', value: 'DIR', description: 'crop: the films to crop (labels.csv or image files).' },
    out: { type: 'string', value: 'PATH', description: 'index: the index file to write. crop: the output folder.' },
    'working-width': {
      type: 'string',
      value: 'N|native',
      description: 'index: width films are resized to before PHOG.',
      defaultText: "256, or the first film's width if smaller",
    },
    bins: { type: 'string', value: 'B', description: 'index: PHOG orientation bins.', defaultText: '8' },
    angle: {
      type: 'string',
      value: '180|360',
      description: 'index: PHOG orientation range in degrees.',
      defaultText: '360',
    },
    levels: { type: 'string', value: 'L', description: 'index: PHOG pyramid levels.', defaultText: '3' },
    side: {
      type: 'string',
      value: 'PX',
      description: 'crop: side of the square on a film --at-width wide.',
      defaultText: '1400',
    },
    'at-width': {
      type: 'string',
      value: 'PX',
      description: 'crop: the film width --side refers to.',
      defaultText: '1462',
    },
    'keep-inside': {
      type: 'boolean',
      description:
        'crop: shift the square onto the film instead of padding it with black (default: centred on the ROI, as in the paper).',
    },
    size: {
      type: 'string',
      value: 'N',
      description: 'crop: resize each crop to N x N before writing.',
      defaultText: 'keep the cut size',
    },
    preview: {
      type: 'boolean',
      description: 'crop: also write preview/NAME.png (film + crop box beside the matched reference + its ROI).',
    },
    workers: {
      type: 'string',
      value: 'N',
      description: 'Worker threads (0 = none).',
      defaultText: `${Math.min(8, availableParallelism())} (one per core)`,
    },
    'max-pixels': MAX_PIXELS_OPTION,
  },
  examples: [
    'spine-cli roi index --db test-data/sample/cervical-roi --out roi-index.json',
    'spine-cli roi crop --index roi-index.json --data test-data/sample/cervical --out data/cervical-roi-crops',
    'spine-cli roi crop --index roi-index.json --data films/ --out crops/ --size 256 --preview',
    'spine-cli roi crop --index roi-index.json --data films/ --out crops-inside/ --keep-inside',
    'spine-cli train --data data/cervical-roi-crops --preset paper-seqcnn-roi --out runs/roi',
  ],
  async run(values, context) {
    const [sub, ...rest] = context.positionals;
    if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}' after 'roi ${sub}'`, ROI);
    if (sub === 'index') {
      onlyFlags(values, INDEX_FLAGS, 'index');
      return runRoiIndex(values, workersFlag(values));
    }
    if (sub === 'crop') {
      onlyFlags(values, CROP_FLAGS, 'crop');
      return runRoiCrop(values, workersFlag(values));
    }
    throw new UsageError(`unknown roi subcommand '${sub}' (use 'roi index' or 'roi crop')`, ROI);
  },
};

/** Each subcommand takes its own flags; a flag of the other one is a mistake worth naming. */
function onlyFlags(values: Values, allowed: readonly string[], sub: string): void {
  for (const [name, v] of Object.entries(values)) {
    if (v === undefined || name === 'help' || allowed.includes(name)) continue;
    throw new UsageError(`--${name} is not a flag of 'roi ${sub}'`, ROI);
  }
}

function workersFlag(values: Values): number {
  return values.workers === undefined
    ? Math.min(8, availableParallelism())
    : integerFlag(ROI, 'workers', values.workers as string, 0, 64);
}
