/**
 * Every command's declaration (name, flags, help text) and how to load its code. --help and flag
 * parsing need only the declarations; a command's module, with the packages it imports (the GPU
 * stack for most), is imported only when that command runs.
 */
import { availableParallelism } from 'node:os';
import { DENSENET_ARCHS } from '@spine/models/run';
import { PRESETS } from '../run/config.js';
import type { Command, OptionSpec } from './command.js';

/** --max-pixels, of every command that decodes films. */
export const MAX_PIXELS_OPTION: OptionSpec = {
  type: 'string',
  value: 'N',
  description:
    'Refuse images of more than N pixels (width x height), from their header before decoding; films need at most ~25 million.',
  // @spine/imaging's DEFAULT_MAX_PIXELS (a test keeps the two equal; importing it here would load the decoders for --help).
  defaultText: '30000000',
};

const train: Command = {
  name: 'train',
  summary:
    'Train the sequential CNN or a DenseNet on a dataset into a run directory, then evaluate it on the test split.',
  usage:
    'train [--preset NAME] [--model seqcnn|densenet121|...] [--weights imagenet|none|PATH] [--data DIR] [--split FILE] [--epochs N] [--lr X] ... [--out RUN] [--resume]',
  description: [
    'With no flags this is the quick start: the quick preset on 2000 synthetic cervical films from the bundled',
    'phantom (generated once into the cache folder; the first 800 are the committed sample), a small SequentialCNN',
    "with batch norm at 64 px; a few minutes on a CPU. --preset paper-seqcnn uses the paper's",
    'settings: 227 px, batch 10, 60 epochs, SGD momentum 0.9, weight decay 5e-4, lr 0.001 reduced 10x',
    'at epochs 15, 30 and 45 (the paper says "three times" without saying when). --preset paper-densenet-cervical',
    "(or -lumbar, on the bundled lumbar sample) is the paper's Approach II: ImageNet DenseNet-121 with a new",
    'Linear(1024, 2) head, 224 px with ImageNet preprocessing (shorter side 256, centre crop 224, ImageNet mean/std),',
    'batch 4, 60 epochs, SGD momentum 0.9, weight decay 1e-4, lr 0.001 reduced 10x at epochs 20 and 40 (the paper',
    'says only "decaying"). --weights imagenet takes torchvision\'s checkpoint from the weights cache (get it',
    "once with 'spine-cli weights fetch densenet121'); none trains from torchvision's random init; a PATH",
    '(.pth or .safetensors) loads every weight but the classifier. --model densenet121 alone implies that preset.',
    'Flags override the preset.',
    'The run directory holds config.json (resolved config, seed, versions, git commit, adapter), split.json',
    '(made with --seed unless --split is given), metrics.jsonl, checkpoints/ (last, best) and eval/ (the test',
    "set's metrics and predictions). Ctrl-C stops after the current batch and saves; --resume continues",
    'exactly (only --epochs, --workers, --cache and --max-pixels may change); a run killed before its first checkpoint starts',
    'again from epoch 1 with its saved settings.',
  ].join('\n'),
  options: {
    preset: {
      type: 'string',
      value: 'NAME',
      description: `${PRESETS.join(', ')}.`,
      defaultText: 'quick; paper-densenet-cervical with --model densenet*',
    },
    model: {
      type: 'string',
      value: 'NAME',
      description: `The network: seqcnn or ${DENSENET_ARCHS.join(', ')}.`,
      defaultText: "the preset's",
    },
    weights: {
      type: 'string',
      value: 'imagenet|none|PATH',
      description:
        'DenseNet starting weights: the cached ImageNet checkpoint, random init, or a .pth/.safetensors file.',
      defaultText: 'imagenet',
    },
    'weights-cache': {
      type: 'string',
      value: 'DIR',
      description: 'Where --weights imagenet is looked for (the cache of spine-cli weights fetch).',
      defaultText: '$SPINE_CLI_CACHE_DIR, $XDG_CACHE_HOME/spine-cli or ~/.cache/spine-cli',
    },
    'freeze-features': {
      type: 'string',
      value: 'N',
      description: 'DenseNet: train only the classifier for the first N epochs.',
      defaultText: '0',
    },
    'classifier-lr-factor': {
      type: 'string',
      value: 'X',
      description: "The classifier's learning rate as a multiple of --lr.",
      defaultText: "the preset's (1 for the paper presets)",
    },
    'memory-efficient': {
      type: 'string',
      value: 'on|off',
      description: 'DenseNet: recompute concatenations in backward (less memory, more time).',
      defaultText: 'off',
    },
    data: {
      type: 'string',
      value: 'DIR',
      description: 'Data folder (labels.csv or female/ and male/ folders).',
      defaultText:
        'quick: 2000 synthetic cervical films generated once into the cache folder; other presets: the bundled cervical sample',
    },
    labels: { type: 'string', value: 'CSV', description: 'Labels CSV.', defaultText: 'DIR/labels.csv' },
    split: {
      type: 'string',
      value: 'FILE',
      description: 'A split.json from spine-cli split.',
      defaultText: 'a stratified split made with --seed',
    },
    epochs: { type: 'string', value: 'N', description: 'Epochs in all (with --resume: extend the run to N).' },
    'batch-size': { type: 'string', value: 'N', description: 'Images per batch.' },
    lr: {
      type: 'string',
      value: 'X',
      description: "Learning rate (the classifier group gets the preset's multiple of it).",
    },
    momentum: { type: 'string', value: 'X', description: 'SGD momentum.' },
    'weight-decay': { type: 'string', value: 'X', description: 'SGD weight decay.' },
    'input-size': { type: 'string', value: 'N', description: 'Square network input in pixels.' },
    hidden: { type: 'string', value: 'N[,N]', description: 'FC6 and FC7 widths.' },
    augment: {
      type: 'string',
      value: 'on|off',
      description: 'Random rotation/scale/shift/exposure of training films.',
    },
    precision: {
      type: 'string',
      value: 'f32|mixed',
      description:
        'mixed: Conv2d and Linear layers take f16 operands and sum in f32 (weights, batch norm, loss f32), with dynamic loss scaling; needs the adapter feature shader-f16. Steps whose gradients overflow are skipped on the device, so steps still replay; on GPUs with subgroup matrices (tensor cores) the convolutions run on them.',
      defaultText: 'f32',
    },
    seed: {
      type: 'string',
      value: 'S',
      description: 'Seed of the split, the weight init and the shuffles.',
      defaultText: '0',
    },
    out: { type: 'string', value: 'RUN', description: 'Run directory.', defaultText: 'runs/<timestamp>' },
    resume: {
      type: 'boolean',
      description: 'Continue the run in --out from its last checkpoint (from epoch 1 if it has none yet).',
    },
    cache: {
      type: 'string',
      value: 'DIR',
      description: 'Cache of decoded, resized films.',
      defaultText: '.spine-cache beside RUN',
    },
    workers: {
      type: 'string',
      value: 'N',
      description: 'Image loading threads (0: on the main thread).',
      defaultText: 'min(2, CPUs)',
    },
    'max-pixels': MAX_PIXELS_OPTION,
    json: { type: 'boolean', description: 'Print the final summary as JSON on stdout (progress still on stderr).' },
  },
  examples: [
    'spine-cli train',
    'spine-cli train --out runs/q1 --epochs 20',
    'spine-cli train --data films/ --split split.json --preset paper-seqcnn --out runs/paper',
    'spine-cli weights fetch densenet121 && spine-cli train --preset paper-densenet-cervical --out runs/densenet',
    'spine-cli train --model densenet121 --weights none --data films/ --out runs/densenet-scratch',
    'spine-cli train --out runs/q1 --resume --epochs 30',
  ],
  load: () => import('./train.js'),
};

const evaluate: Command = {
  name: 'evaluate',
  summary: "Evaluate a trained run's checkpoint on its test (or val/train) split: confusion matrix, accuracy, AUC.",
  usage: 'evaluate --run RUN [--split test|val|train] [--checkpoint best|last] [--json]',
  description: [
    "Rebuilds the run's network from its config.json, loads checkpoints/best (highest validation accuracy)",
    "or last, and runs it over the films of one split of the run's split.json. Prints the confusion matrix",
    "in the paper's layout (rows true F/M, columns predicted F/M), accuracy with a 95% bootstrap interval,",
    'sensitivity (male), specificity (female), balanced accuracy and ROC AUC; writes',
    'RUN/eval/<split>-<checkpoint>.json and its predictions CSV. --json prints the same report on stdout:',
    '{ accuracy, confusion: [[FF, FM], [MF, MM]], n, sensitivityMale, specificityMale, balancedAccuracy,',
    'rocAuc, accuracyCI95, threshold, split, checkpoint, run }.',
  ].join('\n'),
  options: {
    run: { type: 'string', value: 'RUN', description: 'The run directory train wrote.', required: true },
    split: { type: 'string', value: 'NAME', description: 'test, val or train.', defaultText: 'test' },
    checkpoint: { type: 'string', value: 'NAME', description: 'best or last.', defaultText: 'best' },
    workers: {
      type: 'string',
      value: 'N',
      description: 'Image loading threads (0: on the main thread).',
      defaultText: 'min(2, CPUs)',
    },
    cache: {
      type: 'string',
      value: 'DIR',
      description: 'Cache of decoded, resized films.',
      defaultText: '.spine-cache beside RUN',
    },
    'max-pixels': MAX_PIXELS_OPTION,
    json: { type: 'boolean', description: 'Print the report as JSON on stdout.' },
  },
  examples: [
    'spine-cli evaluate --run runs/q1',
    'spine-cli evaluate --run runs/q1 --split val --checkpoint last --json',
  ],
  load: () => import('./evaluate.js'),
};

const predict: Command = {
  name: 'predict',
  summary:
    "Predict the sex for radiographs (files, folders, or a whole archive, resumable) with a trained run's network.",
  usage: [
    'predict --run RUN FILES_OR_DIRS... [--out FILE] | predict --run RUN --input DIR --out FILE [--shard K/N|auto]',
    '          [--only-missing] [--labels CSV] [--threshold P] [--uncertain-below P] [--batch-size N] [--workers N] [--checkpoint best|last]',
    '       predict merge SHARD.csv... --input DIR --out FILE [--only-missing] [--labels CSV]',
  ].join('\n'),
  positionals: 'FILES_OR_DIRS...',
  positionalsOptional: true,
  description: [
    'Folders are searched recursively for PNG, TIFF, JPEG and DICOM files (.png .tif .tiff .jpg .jpeg .dcm',
    ".dicom). Each film is preprocessed as in training (grey, resized to the run's input size). The CSV has",
    'the columns file, predicted_sex (F or M), probability_male, uncertain, recorded_sex, recorded_age, agrees',
    'and error: predicted_sex is M when probability_male >= --threshold; uncertain is "yes" when the probability',
    'of the predicted sex (the larger of P(male) and P(female)) is below --uncertain-below (default 0.6: the',
    'network gives neither sex 60%). A file that cannot be read is listed with the reason in the error column',
    '(and on stderr) and the batch goes on. The CSV is written atomically to --out, or printed on stdout without',
    '--out. Films are decoded and preprocessed on --workers threads while the network runs.',
    '',
    'Recorded sex: for a DICOM film, recorded_sex is its PatientSex (0010,0040) as M, F or O (lowercase taken as',
    'upper case; empty when absent, empty or any other value) and recorded_age its PatientAge (0010,1010) as',
    "written; with --labels CSV (train's labels CSV: file relative to --input DIR, or to the CSV's folder, and",
    'sex) recorded_sex comes from the CSV instead. agrees is yes/no where M or F is recorded and the film was',
    'predicted, else empty. The summary on stderr counts the films with M/F, O and no recorded sex (the ones to',
    'fill in; values that are not M, F or O are named), with the agreement rate and its 95% bootstrap CI.',
    '--only-missing predicts only the films with no recorded M or F and lists the others as skipped.',
    '',
    'Archives: --input DIR --out FILE predicts every image under DIR (file column relative to DIR) and appends',
    'each batch to FILE as it is done (one write + fsync per batch). Running the same command again skips',
    'every file FILE already lists, unreadable ones included (delete their rows to retry them), so an',
    'interrupted run continues where it stopped. Exit 0 when at least one film was predicted (or nothing was',
    'left to do), 1 when none could be.',
    '',
    'Many machines: --shard K/N predicts only the films whose path (relative to DIR) hashes to K of N, so N',
    'workers, each with its own --out, split DIR between them without talking; --shard auto reads K and N from a',
    'Slurm job array (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT) or a Kubernetes',
    'Indexed Job (JOB_COMPLETION_INDEX of SPINE_SHARD_COUNT, which the Job sets to its completions). predict merge',
    "checks that the shards' CSVs list every film of DIR exactly once (missing and duplicated films are listed,",
    'exit 1, nothing written) and writes one CSV, sorted by file, atomically. With --only-missing, films whose',
    'recorded sex is M or F may be absent.',
  ].join('\n'),
  options: {
    run: { type: 'string', value: 'RUN', description: 'The run directory train wrote (required, except for merge).' },
    input: {
      type: 'string',
      value: 'DIR',
      description: 'An archive folder to predict (recursively), resumable; needs --out.',
    },
    out: { type: 'string', value: 'FILE', description: 'Where to write the CSV.', defaultText: 'stdout' },
    threshold: {
      type: 'string',
      value: 'P',
      description: 'P(male) at or above which a film is called M.',
      defaultText: '0.5',
    },
    'uncertain-below': {
      type: 'string',
      value: 'P',
      description: 'Mark a prediction uncertain when the probability of the predicted sex is below P.',
      defaultText: '0.6',
    },
    'batch-size': {
      type: 'string',
      value: 'N',
      description: 'Films per batch (and per CSV append with --input).',
      defaultText: '16',
    },
    checkpoint: { type: 'string', value: 'NAME', description: 'best or last.', defaultText: 'best' },
    shard: {
      type: 'string',
      value: 'K/N|auto',
      description: 'With --input: predict only shard K (0 to N-1) of N; auto: from Slurm or Kubernetes.',
    },
    'only-missing': {
      type: 'boolean',
      description: 'Predict only films with no recorded M or F sex (the others are listed as skipped).',
    },
    labels: {
      type: 'string',
      value: 'CSV',
      description: 'A labels CSV (file, sex) to compare with, instead of the DICOM PatientSex.',
    },
    workers: {
      type: 'string',
      value: 'N',
      description: 'Threads decoding films while the network runs (0: on the main thread).',
      defaultText: 'min(2, CPUs)',
    },
    'max-pixels': MAX_PIXELS_OPTION,
  },
  examples: [
    'spine-cli predict --run runs/q1 films/ --out predictions.csv',
    'spine-cli predict --run runs/q1 film1.png film2.dcm',
    'spine-cli predict --run runs/q1 --input /archive/nhanes --out nhanes-predictions.csv',
    'spine-cli predict --run runs/q1 --input /archive --out shard-3.csv --shard 3/16 --only-missing',
    'spine-cli predict merge shard-*.csv --input /archive --out archive-predictions.csv',
  ],
  load: () => import('./predict.js'),
};

const report: Command = {
  name: 'report',
  summary: "Write a run's report: RUN/report/report.html (self-contained) and every figure as SVG and PNG.",
  usage: 'report RUN [--gallery N] [--average-films N] [--workers N] [--cache DIR] [--max-pixels N]',
  positionals: 'RUN',
  description: [
    "The page holds the configuration, the split table (films per sex per split, like the paper's Tables 1",
    "and 5), loss, accuracy and learning rate per epoch, the confusion matrix in the paper's layout, the ROC",
    'curve with its AUC, a calibration curve, and Grad-CAM pictures: the mean map per sex over the test set (at',
    'most --average-films per sex, evenly spaced, since Grad-CAM takes seconds per film on a CPU adapter) and',
    'a gallery of the most confident right and wrong test films. Charts are Vega-Lite rendered on Node; the',
    'page has no scripts and fetches nothing, so it opens offline. Each chart is also written as RUN/report/',
    '<name>.svg and .png, the Grad-CAM pictures as PNG. train writes this report at the end of every run.',
    'When the run has no test evaluation yet, its checkpoint (best, else last) is evaluated first.',
  ].join('\n'),
  options: {
    gallery: {
      type: 'string',
      value: 'N',
      description: 'Films in each gallery row (0: no Grad-CAM pictures).',
      defaultText: '6',
    },
    'average-films': {
      type: 'string',
      value: 'N',
      description: 'Test films per sex in the Grad-CAM averages, evenly spaced (0: all).',
      defaultText: '100',
    },
    workers: {
      type: 'string',
      value: 'N',
      description: 'Image loading threads for an evaluation (0: on the main thread).',
      defaultText: 'min(2, CPUs)',
    },
    cache: {
      type: 'string',
      value: 'DIR',
      description: 'Cache of decoded, resized films.',
      defaultText: '.spine-cache beside RUN',
    },
    'max-pixels': MAX_PIXELS_OPTION,
  },
  examples: ['spine-cli report runs/q1', 'spine-cli report runs/q1 --gallery 0'],
  load: () => import('./report.js'),
};

const explain: Command = {
  name: 'explain',
  summary:
    'Grad-CAM: where a trained network looks, as overlays on films and as the mean map per sex over the test split.',
  usage:
    'explain --run RUN FILES_OR_DIRS... [--out DIR] [--class predicted|F|M] | explain --run RUN --average [--out DIR]',
  positionals: 'FILES_OR_DIRS...',
  positionalsOptional: true,
  description: [
    "Grad-CAM of the network's last convolution block (the sequential CNN: conv5 + ReLU; DenseNet: norm5 + ReLU):",
    'the gradient of the class logit, averaged over each channel, weights that channel of the activation; the',
    'ReLU of the weighted sum is upsampled (bilinear) onto the film and drawn in the jet colour map over it',
    '(red: strongest evidence for the class; each map scaled to its own maximum). For each film (folders are',
    'searched recursively for PNG, TIFF, JPEG and DICOM) it writes DIR/<name>-gradcam.png and a line of',
    'DIR/explain.csv (file, predicted_sex, probability_male, explained_class, overlay, error). --average runs over',
    "the run's test split, explaining every film for its true sex, and writes DIR/average-female.png and",
    "average-male.png: each sex's mean film beside the mean map drawn over it, at the films' aspect, i.e.",
    'where the network finds each sex and on which anatomy.',
  ].join('\n'),
  options: {
    run: { type: 'string', value: 'RUN', description: 'The run directory train wrote.', required: true },
    out: { type: 'string', value: 'DIR', description: 'Folder for the pictures.', defaultText: 'RUN/explain' },
    average: { type: 'boolean', description: "Mean map per sex over the run's test split." },
    class: {
      type: 'string',
      value: 'C',
      description: 'Explain the predicted sex, or F or M for every film.',
      defaultText: 'predicted',
    },
    'max-side': {
      type: 'string',
      value: 'N',
      description: "Longest side of an overlay in pixels (never above the film's).",
      defaultText: '768',
    },
    checkpoint: { type: 'string', value: 'NAME', description: 'best or last.', defaultText: 'best' },
    'max-pixels': MAX_PIXELS_OPTION,
  },
  examples: [
    'spine-cli explain --run runs/q1 films/a.png films/b.dcm --out cams/',
    'spine-cli explain --run runs/q1 --average',
  ],
  load: () => import('./explain.js'),
};

const exportWeb: Command = {
  name: 'export-web',
  summary:
    'Write a static web page that runs a trained run in the browser (WebGPU), plus its model, for any static host.',
  usage: 'export-web [RUN] --out DIR [--checkpoint best|last] [--threshold P] [--uncertain-below P]',
  positionals: 'RUN',
  positionalsOptional: true,
  description: [
    "DIR gets index.html, app.js, style.css and model.safetensors (the checkpoint's network weights, with the network",
    'configuration, the input transform and the verdict rule in its metadata; no optimizer state). Serve DIR from any',
    'static web server and open it: the page loads model.safetensors from beside itself, takes PNG, JPEG, TIFF and DICOM',
    'films by drag and drop or file picker, and shows the predicted sex, its probability, the uncertainty flag and a',
    "Grad-CAM overlay; many films at once give a table and a CSV in predict's columns. Everything runs in the browser",
    'through WebGPU (Chrome/Edge 113+, Safari 26+, Firefox 141+), over https:// or http://localhost.',
    "--threshold and --uncertain-below set the page's verdict rule exactly as for predict. DIR must be empty, new, or a",
    'previous export (its files are replaced, each atomically). Without RUN, DIR gets the page alone: it trains the quick',
    "start's network in the browser on a folder of films (and hands the run out as a zip that evaluate, predict and",
    'report read), or loads a model file the user picks.',
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
    'spine-cli export-web --out site/',
  ],
  load: () => import('./export-web.js'),
};

const weights: Command = {
  name: 'weights',
  summary:
    "Pretrained weights: fetch torchvision's ImageNet DenseNets and ResNets, import .pth files, inspect weight files.",
  usage: [
    'weights fetch NAME [--cache-dir DIR] [--url URL]',
    'weights import FILE.pth [--out FILE.safetensors] [--force]',
    'weights inspect FILE [--json]',
    'weights list [--cache-dir DIR]',
  ].join('\n       spine-cli '),
  positionals: 'ACTION [NAME|FILE]',
  description: [
    'NAME is densenet121, densenet169, densenet201, resnet18, resnet34, resnet50 or resnet50-v2 (ImageNet-1k).',
    "fetch downloads torchvision's checkpoint (https://download.pytorch.org/models/<name>-<hash>.pth) with",
    'progress on stderr, into CACHE/weights/<name>-<hash>.pth.part; a cut-off download is resumed by the next',
    'run (HTTP Range). The SHA-256 must start with the <hash> in the file name, as torchvision checks it; a',
    'file that fails is deleted. It is then converted to CACHE/weights/<name>-<hash>.safetensors (legacy key',
    'names renamed, written to a temp file and renamed) and the download is deleted: training reads only the',
    'safetensors file, which needs no unpickler. Offline, put the .pth downloaded by hand at',
    'CACHE/weights/<name>-<hash>.pth and run fetch again: it is checked and converted without the network.',
    'CACHE is --cache-dir, else $SPINE_CLI_CACHE_DIR, else $XDG_CACHE_HOME/spine-cli, else ~/.cache/spine-cli.',
    '',
    'import reads a torch.save file (zip or legacy format; a state dict, or one under "state_dict") through',
    'an allow-list unpickler that refuses any other Python object without running it, renames legacy',
    'DenseNet keys (norm.1 -> norm1), and writes safetensors (F32 floats, I64 counters). No hash is checked.',
    'inspect lists keys, dtypes, shapes and the parameter count (BatchNorm running statistics apart) of a',
    '.pth or .safetensors file; --json prints { path, format, metadata, tensors: [{ key, dtype, shape,',
    'numel }], parameterCount, bufferCount, renamedKeys }.',
  ].join('\n'),
  options: {
    'cache-dir': {
      type: 'string',
      value: 'DIR',
      description: 'Weights cache (fetch, list).',
      defaultText: '$SPINE_CLI_CACHE_DIR, $XDG_CACHE_HOME/spine-cli or ~/.cache/spine-cli',
    },
    url: {
      type: 'string',
      value: 'URL',
      description: 'Download from a mirror instead of download.pytorch.org (fetch; the hash check is the same).',
    },
    out: {
      type: 'string',
      value: 'FILE',
      description: 'Where import writes the safetensors file.',
      defaultText: 'FILE with .safetensors',
    },
    force: { type: 'boolean', description: 'Let import replace an existing --out file.' },
    json: { type: 'boolean', description: 'inspect, list: print JSON on stdout.' },
  },
  examples: [
    'spine-cli weights fetch densenet121',
    'spine-cli weights import ~/Downloads/densenet121-a639ec97.pth --out densenet121.safetensors',
    'spine-cli weights inspect densenet121.safetensors',
    'spine-cli weights list',
  ],
  load: () => import('./weights.js'),
};

const roi: Command = {
  name: 'roi',
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
  load: () => import('./roi.js'),
};

const study: Command = {
  name: 'study',
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
  load: () => import('./study.js'),
};

const doctor: Command = {
  name: 'doctor',
  summary: 'Check Node, the WebGPU adapter and its kernels, and optional PyTorch; say what to install.',
  usage: 'doctor [--json] [--skip-pytorch] [--backend NAME]',
  description: [
    'Reports the Node version, the WebGPU adapter Dawn finds (vendor, architecture, backend, the',
    'kernel family chosen for it, key limits, its optional features and subgroup-matrix',
    'configurations), a self-test of a matmul and a conv2d against float64',
    'references, whether hot matmuls get wider blocks compiled in the background (lavapipe), and',
    'whether PyTorch (used only by benchmarks and fixture generators) is installed.',
    'Exits 1 when Node is too old, no adapter is found or the self-test fails.',
  ].join('\n'),
  options: {
    json: { type: 'boolean', description: 'Print one JSON object instead of the report.' },
    'skip-pytorch': { type: 'boolean', description: 'Do not look for PyTorch (importing it takes seconds).' },
    backend: {
      type: 'string',
      value: 'NAME',
      description: 'Dawn backend to ask for: vulkan, metal, d3d12, opengl...',
      defaultText: "the platform's",
    },
  },
  examples: [
    'spine-cli doctor',
    'spine-cli doctor --json > doctor.json',
    "spine-cli doctor --json | jq '.adapter.info.description'",
    'spine-cli doctor --backend vulkan --skip-pytorch',
  ],
  load: () => import('./doctor.js'),
};

const synth: Command = {
  name: 'synth',
  summary: 'Render synthetic cervical or lumbar films with labels (labels.csv, rois.json).',
  usage: 'synth --region cervical|lumbar --count N --out DIR [--seed S] [--width W] [--start I]',
  description: [
    'Films come from a parametric phantom with a designed, measured sex signal (see @spine/test-data).',
    'Files are named <region>-<seed>-<index>.png and written atomically; the same flags give',
    'byte-identical files, so rerunning a command never changes an existing set. Native size is',
    '1462 px wide (cervical) or 2048 px (lumbar); --width renders smaller films directly.',
  ].join('\n'),
  options: {
    region: { type: 'string', value: 'cervical|lumbar', description: 'Which region to render.', required: true },
    count: { type: 'string', value: 'N', description: 'Number of films.', required: true },
    out: { type: 'string', value: 'DIR', description: 'Output folder (created if missing).', required: true },
    seed: { type: 'string', value: 'S', description: 'Seed of the subjects and the rendering.', defaultText: '0' },
    width: {
      type: 'string',
      value: 'W',
      description: 'Film width in pixels, 16 to 8192 (height keeps the aspect).',
      defaultText: 'native',
    },
    start: {
      type: 'string',
      value: 'I',
      description: 'Index of the first subject, to extend a set reproducibly.',
      defaultText: '0',
    },
  },
  examples: [
    'spine-cli synth --region cervical --count 800 --seed 1 --width 128 --out data/cervical',
    'spine-cli synth --region lumbar --count 10 --out /tmp/lumbar-full-size',
    'spine-cli synth --region cervical --count 200 --seed 1 --start 800 --width 128 --out data/cervical-more',
  ],
  load: () => import('./synth.js'),
};

const split: Command = {
  name: 'split',
  summary: 'Validate a dataset and split it into train/val/test by class (and subject), saved as split.json.',
  usage: 'split --data DIR [--labels FILE] [--seed S] [--fractions T,V,E | --counts PRESET|SPEC] [--out FILE]',
  description: [
    'The dataset is DIR with a labels CSV (columns file, sex; optional subject_id, age, region) or,',
    'without one, class folders DIR/female and DIR/male. Every row and image is checked first; any',
    'problem (missing or unreadable file, duplicate, unknown sex, empty class...) is listed with its',
    'file and CSV line, and nothing is written. Each class is split on its own, so every split keeps',
    "the class ratio; a subject's films never straddle two splits. The same data and seed always give",
    'the same split. --counts takes exact images per class: paper-cervical (Table 1), paper-lumbar',
    "(Table 5), or 'train=F:M,val=F:M,test=F:M'; images left over are listed as unused.",
  ].join('\n'),
  options: {
    data: { type: 'string', value: 'DIR', description: 'The data folder.', required: true },
    labels: {
      type: 'string',
      value: 'FILE',
      description: 'Labels CSV.',
      defaultText: 'DIR/labels.csv if present, else class folders',
    },
    seed: { type: 'string', value: 'S', description: 'Seed of the shuffle.', defaultText: '0' },
    fractions: {
      type: 'string',
      value: 'T,V,E',
      description: 'Fractions of each class for train, val, test.',
      defaultText: '0.8,0.1,0.1',
    },
    counts: {
      type: 'string',
      value: 'PRESET|SPEC',
      description: "Exact counts: paper-cervical, paper-lumbar, or 'train=F:M,val=F:M,test=F:M'.",
    },
    out: { type: 'string', value: 'FILE', description: 'Where to write the split.', defaultText: 'split.json' },
    force: { type: 'boolean', description: 'Replace an existing, different split file.' },
    'numeric-sex': {
      type: 'string',
      value: 'CODING',
      description: 'Meaning of 0/1 in the sex column: 0=female,1=male or 0=male,1=female.',
      defaultText: '0=female,1=male',
    },
    'ignore-subjects': { type: 'boolean', description: 'Split images independently even when subject ids exist.' },
    'image-check': {
      type: 'string',
      value: 'MODE',
      description: 'decode (every image), header (format only) or auto (decode up to 2000 images).',
      defaultText: 'auto',
    },
  },
  examples: [
    'spine-cli split --data test-data/sample/cervical --out runs/cervical-split.json',
    'spine-cli split --data films/ --labels films/nhanes.csv --numeric-sex 0=male,1=female --seed 7',
    'spine-cli split --data nhanes/cervical --counts paper-cervical --out split.json',
    "spine-cli split --data films/ --counts 'train=40:40,val=5:5,test=5:5'",
  ],
  load: () => import('./split.js'),
};

const cache: Command = {
  name: 'cache',
  summary: "Show or clear spine-cli's cache (downloaded weights, the quick start's synthetic films).",
  usage: ['cache [list] [--cache-dir DIR] [--json]', 'cache clear weights|synthetic|all [--cache-dir DIR]'].join(
    '\n       spine-cli ',
  ),
  positionals: '[ACTION] [WHAT]',
  positionalsOptional: true,
  description: [
    'list (the default) prints the cache folder and each item in it with its size: weights/ holds the',
    'ImageNet DenseNets and ResNets of `spine-cli weights fetch` (and a partial download, resumed by the next fetch),',
    "synthetic/ the quick start's films, generated again on the next `spine-cli train` without flags.",
    'clear removes weights/, synthetic/ or both, and nothing else in the folder.',
    'The folder is --cache-dir, else $SPINE_CLI_CACHE_DIR, else $XDG_CACHE_HOME/spine-cli, else ~/.cache/spine-cli.',
  ].join('\n'),
  options: {
    'cache-dir': {
      type: 'string',
      value: 'DIR',
      description: 'The cache folder.',
      defaultText: '$SPINE_CLI_CACHE_DIR, $XDG_CACHE_HOME/spine-cli or ~/.cache/spine-cli',
    },
    json: { type: 'boolean', description: 'list: print JSON on stdout.' },
  },
  examples: [
    'spine-cli cache',
    'spine-cli cache clear synthetic',
    'spine-cli cache clear all --cache-dir /tmp/spine-cache',
  ],
  load: () => import('./cache.js'),
};

/** In the order --help lists them. */
export const COMMANDS: readonly Command[] = [
  train,
  evaluate,
  predict,
  report,
  explain,
  exportWeb,
  weights,
  roi,
  study,
  doctor,
  synth,
  split,
  cache,
];
