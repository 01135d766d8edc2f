/**
 * Every command's declaration (name, flags, help text) and how to load its code. --help and flag
 * parsing need only the declarations; a command's module, with the packages it imports (the GPU
 * stack for most), is imported only when that command runs.
 */
import type { Command, CommandSpec, RegisteredCommand } from './command.js';
import { cacheCommand } from './cache.js';
import { doctorCommand } from './doctor.js';
import { evaluateCommand } from './evaluate.js';
import { explainCommand } from './explain.js';
import { predictCommand } from './predict.js';
import { reportCommand } from './report.js';
import { roiCommand } from './roi.js';
import { splitCommand } from './split.js';
import { studyCommand } from './study.js';
import { synthCommand } from './synth.js';
import { trainCommand } from './train.js';
import { weightsCommand } from './weights.js';

const exportWeb: RegisteredCommand = {
  name: 'export-web',
  summary:
    'Write a static web page that runs a trained run in the browser (WebGPU), plus its model, for any static host.',
  usage: 'export-web RUN --out DIR [--checkpoint best|last] [--threshold P] [--uncertain-below P]',
  positionals: 'RUN',
  description: [
    "DIR gets index.html, app.js, style.css and model.safetensors (the checkpoint's network weights, with the network",
    'configuration, the input transform and the verdict rule in its metadata; no optimizer state). Serve DIR from any',
    'static web server and open it: the page loads model.safetensors from beside itself, takes PNG, JPEG, TIFF and DICOM',
    'films by drag and drop or file picker, and shows the predicted sex, its probability, the uncertainty flag and a',
    "Grad-CAM overlay; many films at once give a table and a CSV in predict's columns. Everything runs in the browser",
    'through WebGPU (Chrome/Edge 113+, Safari 26+, Firefox 141+), over https:// or http://localhost.',
    "--threshold and --uncertain-below set the page's verdict rule exactly as for predict. DIR must be empty, new, or a",
    'previous export (its files are replaced, each atomically).',
  ].join('\n'),
  options: {
    out: { type: 'string', value: 'DIR', description: 'The folder to write the page into.', required: true },
    checkpoint: { type: 'string', value: 'NAME', description: 'best or last.', defaultText: 'best' },
    threshold: {
      type: 'string',
      value: 'P',
      description: 'P(male) at or above which a film is called M.',
      defaultText: '0.5',
    },
    'uncertain-below': {
      type: 'string',
      value: 'P',
      description: 'A call is uncertain when the probability of the predicted sex is below P.',
      defaultText: '0.6',
    },
  },
  examples: [
    'spine-cli export-web runs/q1 --out site/',
    'spine-cli export-web runs/q1 --out site/ --checkpoint last --uncertain-below 0.7',
  ],
  load: () => import('./export-web.js'),
};

function loaded(command: Command): RegisteredCommand {
  const { run, ...spec }: CommandSpec & Pick<Command, 'run'> = command;
  return { ...spec, load: async () => ({ run }) };
}

/** In the order --help lists them. */
export const COMMANDS: readonly RegisteredCommand[] = [
  loaded(trainCommand),
  loaded(evaluateCommand),
  loaded(predictCommand),
  loaded(reportCommand),
  loaded(explainCommand),
  exportWeb,
  loaded(weightsCommand),
  loaded(roiCommand),
  loaded(studyCommand),
  loaded(doctorCommand),
  loaded(synthCommand),
  loaded(splitCommand),
  loaded(cacheCommand),
];
