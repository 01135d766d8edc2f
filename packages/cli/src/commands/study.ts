/** spine-cli study: the paper's experiments (splits, three approaches per region, Tables 1-6) as one resumable pipeline. */
import { resolve } from 'node:path';
import { choiceFlag, integerFlag } from '../ui/args.js';
import { UsageError } from '../ui/errors.js';
import type { Command } from './command.js';

const NAME = 'study';

export const studyCommand: Command = {
  name: NAME,
  summary:
    "Run the paper's experiments end to end (splits, sequential CNN on films and ROI crops, DenseNet-121) and write its tables.",
  usage:
    'study --out STUDY [--cervical DIR|CSV] [--lumbar DIR|CSV] [--roi-reference DIR] [--scale smoke|paper] [--regions cervical,lumbar] [--densenet-from-scratch]',
  description: [
    "For each region: a split of the films by the paper's Tables 1 and 5 (its counts when the data has that",
    'many films, else its fractions), the sequential CNN on the full films, the CBIR ROI step (roi index on the',
    'reference films, roi crop of every film) and the sequential CNN on the crops, and DenseNet-121 fine-tuned',
    'from the ImageNet weights in the weights cache (without them it is skipped, or trained from random init with',
    '--densenet-from-scratch). Every training step is an ordinary run folder in STUDY/<region>/ (evaluate, explain',
    "and report work on it). STUDY/study.md and study.html hold Tables 1-6 with the paper's numbers beside ours,",
    "95% bootstrap intervals, McNemar's and DeLong's paired tests between the approaches, and links to each run's",
    'report. Without --cervical/--lumbar the films are synthetic (generated once into the cache folder), and the',
    'page says so. Run the same command again after a stop (Ctrl-C, a kill, a reboot) and it continues where it',
    'stopped; finished steps are kept. Other settings for an existing STUDY are refused.',
    '--scale smoke: 300 films per region at 64 px; the quick network at 32 px for 8 epochs, DenseNet-121 at 32 px for 1.',
    '--scale paper: the paper presets (227/224 px, 60 epochs, batch 10/4); synthetic sets of 2000 films at 256 px.',
  ].join('\n'),
  options: {
    out: {
      type: 'string',
      value: 'STUDY',
      description: 'The study folder (created; rerun the command to continue it).',
      required: true,
    },
    cervical: {
      type: 'string',
      value: 'DIR|CSV',
      description: 'Cervical films: a folder (labels.csv or female/ and male/) or a labels CSV.',
      defaultText: 'synthetic cervical films',
    },
    lumbar: {
      type: 'string',
      value: 'DIR|CSV',
      description: 'Lumbar films, as --cervical.',
      defaultText: 'synthetic lumbar films',
    },
    'roi-reference': {
      type: 'string',
      value: 'DIR',
      description: 'Cervical reference films with rois.json for the CBIR ROI step.',
      defaultText: 'synthetic references with synthetic films; none (no ROI step) with your own',
    },
    scale: {
      type: 'string',
      value: 'smoke|paper',
      description: "How big: smoke (minutes on a CPU) or paper (the paper's settings).",
      defaultText: 'paper',
    },
    regions: {
      type: 'string',
      value: 'LIST',
      description: 'cervical, lumbar or both, comma-separated.',
      defaultText: 'the regions given with --cervical/--lumbar, else both',
    },
    'densenet-from-scratch': {
      type: 'boolean',
      description: 'Train DenseNet-121 from random init when the ImageNet weights are not in the weights cache.',
    },
    workers: {
      type: 'string',
      value: 'N',
      description: 'Image loading / cropping threads of each step.',
      defaultText: "each command's default",
    },
  },
  examples: [
    'spine-cli study --scale smoke --densenet-from-scratch --out studies/smoke',
    'spine-cli weights fetch densenet121 && spine-cli study --out studies/paper-synthetic',
    'spine-cli study --cervical /data/nhanes/cervical --lumbar /data/nhanes/lumbar/labels.csv --roi-reference /data/nhanes/cervical-roi --out studies/nhanes',
  ],
  async run(values) {
    const { resolveStudySettings } = await import('../study/resolve.js');
    const { runStudy } = await import('../study/pipeline.js');
    const scale = choiceFlag(NAME, 'scale', (values.scale as string | undefined) ?? 'paper', [
      'smoke',
      'paper',
    ] as const);
    const regionsText = values.regions as string | undefined;
    const regions =
      regionsText === undefined
        ? undefined
        : regionsText.split(',').map((r) => choiceFlag(NAME, 'regions', r.trim(), ['cervical', 'lumbar'] as const));
    if (regions && new Set(regions).size !== regions.length)
      throw new UsageError(`--regions names a region twice: '${regionsText}'`, NAME);
    const settings = resolveStudySettings({
      scale,
      regions,
      cervical: values.cervical as string | undefined,
      lumbar: values.lumbar as string | undefined,
      roiReference: values['roi-reference'] as string | undefined,
    });
    return runStudy({
      out: resolve(values.out as string),
      settings,
      densenetFromScratch: values['densenet-from-scratch'] === true,
      ...(values.workers !== undefined
        ? { workers: integerFlag(NAME, 'workers', values.workers as string, 0, 64) }
        : {}),
      argv: process.argv.slice(2),
    });
  },
};
