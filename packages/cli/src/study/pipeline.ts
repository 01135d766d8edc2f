/**
 * `spine-cli study`: the paper's experiments as one resumable pipeline. Per region: the split,
 * the sequential CNN on the full films, the CBIR ROI index and crops and the sequential CNN on the
 * crops, DenseNet-121; then the tables. Each step is recorded in study.json as it starts and when
 * it is done; a rerun keeps the done ones and continues the rest (child.ts says why steps run as
 * spine-cli children).
 */
import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@spine/imaging/node';
import { findPretrained, PAPER_SPLITS, resolveCacheDir, weightsPaths } from '@spine/models';
import { ensureSyntheticSet } from '../run/synthetic-sets.js';
import { CliError, EXIT_OK } from '../ui/errors.js';
import { formatDuration } from '../ui/progress.js';
import { formatTable } from '../ui/table.js';
import { runChild } from './child.js';
import { renderHtml, renderMarkdown } from './document.js';
import { APPROACH_NAMES, readRunResult, regionPairs, type Approach, type RunResult } from './results.js';
import { SCALE_SPECS, settingsChanges, type DataSource, type Region, type StudySettings } from './settings.js';
import { writeCropSplit, writeRegionSplit } from './split-step.js';
import { LOCK_FILE, STATE_FILE, StudyLock, readStudyState, writeStudyState, type StudyState } from './state.js';
import { fmt3, fmtCI, PAPER_RESULTS, studyBlocks, type RegionSection } from './tables.js';

export interface StudyOptions {
  out: string;
  settings: StudySettings;
  /** DenseNet-121 from random init when the ImageNet weights are not in the weights cache. */
  densenetFromScratch: boolean;
  /** Passed to the train and roi steps (image loading / cropping threads). */
  workers?: number;
  /** The command line as typed (after 'spine-cli'), for the page and the resume hint. */
  argv: string[];
}

type Outcome =
  | { status: 'done'; note?: string; command?: string[] }
  | { status: 'skipped'; note: string }
  | { status: 'stopped'; code: number };

interface Step {
  id: string;
  command: string[];
  /** The step's outputs are on disk (a step recorded done whose outputs were deleted runs again). */
  finished(): boolean;
  execute(): Promise<Outcome>;
}

const SEED = 0;
const log = (s: string) => process.stderr.write(`${s}\n`);

export async function runStudy(o: StudyOptions): Promise<number> {
  // A folder of other things is not taken over: the study writes region folders and study.md into it.
  const entries = existsSync(o.out) ? (await fs.readdir(o.out)).filter((e) => e !== LOCK_FILE) : [];
  if (entries.length > 0 && !entries.includes(STATE_FILE)) {
    throw new CliError(
      `${o.out} is not empty and holds no study (no ${STATE_FILE})`,
      'Give a new or empty folder with --out, or the folder of an earlier spine-cli study to continue it.',
    );
  }
  await fs.mkdir(o.out, { recursive: true });
  const lock = await StudyLock.acquire(o.out);
  try {
    return await runLocked(o, lock);
  } finally {
    lock.releaseSync();
  }
}

async function runLocked(o: StudyOptions, lock: StudyLock): Promise<number> {
  const before = await readStudyState(o.out);
  if (before) {
    const changes = settingsChanges(before.settings, o.settings);
    if (changes.length > 0) {
      throw new CliError(
        `${o.out} holds a study made with other settings: ${changes.join('; ')}`,
        'Run it with the flags it was made with to continue it, or give another --out for a new study.',
      );
    }
  }
  const state: StudyState = before ?? {
    format: 'spine-study',
    version: 1,
    createdAt: new Date().toISOString(),
    settings: o.settings,
    steps: {},
  };
  await writeStudyState(o.out, state);
  const steps = o.settings.regions.flatMap((region) => regionSteps(o, region, (pid) => lock.child(pid)));
  const started = performance.now();
  let kept = 0;
  for (const [i, step] of steps.entries()) {
    const tag = `[${i + 1}/${steps.length}] ${step.id}`;
    const prev = state.steps[step.id];
    if (prev?.status === 'done' && step.finished()) {
      log(`${tag}: done (kept)`);
      kept++;
      continue;
    }
    const startedAt = new Date().toISOString();
    state.steps[step.id] = { status: 'started', command: step.command, startedAt };
    await writeStudyState(o.out, state);
    log(`${tag}: ${prev?.status === 'started' ? 'continuing' : 'running'} spine-cli ${step.command.join(' ')}`);
    const t0 = performance.now();
    const outcome = await step.execute();
    await lock.child(undefined);
    const seconds = (performance.now() - t0) / 1000;
    if (outcome.status === 'stopped') {
      log(`${tag}: stopped (exit ${outcome.code}); finished steps are kept.`);
      log(`Continue with: spine-cli ${o.argv.join(' ')}`);
      return outcome.code;
    }
    state.steps[step.id] = {
      status: outcome.status,
      command: (outcome.status === 'done' && outcome.command) || step.command,
      startedAt,
      finishedAt: new Date().toISOString(),
      seconds,
      ...(outcome.note ? { note: outcome.note } : {}),
    };
    await writeStudyState(o.out, state);
    log(`${tag}: ${outcome.status === 'done' ? `done in ${formatDuration(seconds)}` : `skipped: ${outcome.note}`}`);
  }
  const skipped = steps.filter((s) => state.steps[s.id]?.status === 'skipped').length;
  if (kept === steps.length)
    log(`Every step is done (${steps.length} steps kept); the tables are written again from the run folders.`);
  else
    log(
      `Study steps finished in ${formatDuration((performance.now() - started) / 1000)}${skipped ? ` (${skipped} skipped, see the page)` : ''}.`,
    );

  const sections = await Promise.all(o.settings.regions.map((region) => regionSection(o, state, region)));
  const page = {
    studyDir: o.out,
    command: o.argv,
    settings: o.settings,
    state,
    sections,
    syntheticNote: syntheticNote(o.settings),
  };
  const blocks = studyBlocks(page);
  await writeFileAtomic(join(o.out, 'study.md'), renderMarkdown(blocks));
  await writeFileAtomic(join(o.out, 'study.html'), renderHtml('spine-cli study', blocks));
  process.stdout.write(
    `${summaryText(sections)}\n\nWrote ${join(o.out, 'study.md')} and ${join(o.out, 'study.html')}\n`,
  );
  return EXIT_OK;
}

function regionSteps(o: StudyOptions, region: Region, onSpawn: (pid: number | undefined) => Promise<void>): Step[] {
  const spec = SCALE_SPECS[o.settings.scale];
  const data = o.settings.data[region]!;
  const reference = o.settings.roiReference[region] ?? null;
  const dir = join(o.out, region);
  const splitPath = join(dir, 'split.json');
  const indexPath = join(dir, 'roi-index.json');
  const crops = join(dir, 'roi-crops');
  const cropSplitPath = join(dir, 'roi-split.json');
  const workers = o.workers === undefined ? [] : ['--workers', String(o.workers)];
  const dataFlags = ['--data', data.root, ...(data.labels ? ['--labels', data.labels] : [])];
  const logFile = (name: string) => join(o.out, 'logs', `${region}-${name}.log`);
  const ensure = async (source: DataSource) => {
    if (source.synthetic) await ensureSyntheticSet(source.synthetic, source.root, log);
  };
  const child = async (args: string[], name: string): Promise<Outcome> => {
    const r = await runChild(args, logFile(name), onSpawn);
    if (r.code === 0) return { status: 'done' };
    if (r.code === 130 || r.code === 129 || r.signal)
      return { status: 'stopped', code: r.code === 129 || r.signal ? 130 : r.code };
    throw new CliError(
      `step ${region}/${name} failed (spine-cli ${args[0]} exited ${r.code}); its output is in ${logFile(name)}`,
      'Fix what it says and run the same spine-cli study command again: the finished steps are kept.',
    );
  };
  const trained = (run: string) =>
    existsSync(join(run, 'eval', 'test-best.json')) || existsSync(join(run, 'eval', 'test-last.json'));
  const trainStep = (
    name: Approach,
    args: string[],
    note?: string,
    prepare?: () => Promise<Outcome | undefined>,
  ): Step => {
    const run = join(dir, name);
    return {
      id: `${region}/${name}`,
      command: ['train', ...args, '--out', run, ...workers],
      finished: () => trained(run),
      async execute() {
        const early = await prepare?.();
        if (early) return early;
        // A run folder with a config.json is a run train started: continue it with its own settings.
        const resume = existsSync(join(run, 'config.json'));
        if (name !== 'seqcnn-roi') await ensure(data);
        const r = await child(
          resume ? ['train', '--out', run, '--resume', ...workers] : ['train', ...args, '--out', run, ...workers],
          name,
        );
        return r.status === 'done' && note ? { ...r, note } : r;
      },
    };
  };

  const steps: Step[] = [];
  steps.push({
    id: `${region}/split`,
    // Made in-process (counts or fractions are chosen from the data first); recorded as the split
    // command that makes the same file.
    command: ['split', ...dataFlags, '--seed', String(SEED), '--out', splitPath],
    finished: () => existsSync(splitPath),
    async execute() {
      await ensure(data);
      await fs.mkdir(dir, { recursive: true });
      const { split, plan: how } = await writeRegionSplit(region, data, splitPath, SEED);
      const sized = how.counts
        ? `the paper's counts (--counts paper-${region})`
        : `the paper's fractions ${how.fractions!.map((f) => f.toFixed(4)).join('/')}`;
      const sizing = how.counts
        ? ['--counts', `paper-${region}`]
        : ['--fractions', how.fractions!.map(String).join(',')];
      return {
        status: 'done',
        note: `${sized}: ${split.train.length} train / ${split.val.length} val / ${split.test.length} test films`,
        command: ['split', ...dataFlags, ...sizing, '--seed', String(SEED), '--out', splitPath],
      };
    },
  });
  steps.push(trainStep('seqcnn-full', [...dataFlags, '--split', splitPath, ...spec.seqcnn]));
  if (reference) {
    steps.push({
      id: `${region}/roi-index`,
      command: ['roi', 'index', '--db', reference.root, '--out', indexPath, ...workers],
      finished: () => existsSync(indexPath),
      async execute() {
        await ensure(reference);
        return child(['roi', 'index', '--db', reference.root, '--out', indexPath, ...workers], 'roi-index');
      },
    });
    const cropArgs = [
      'roi',
      'crop',
      '--index',
      indexPath,
      '--data',
      data.root,
      '--out',
      crops,
      ...spec.crop,
      ...workers,
    ];
    steps.push({
      id: `${region}/roi-crop`,
      command: cropArgs,
      finished: () => existsSync(cropSplitPath),
      async execute() {
        await ensure(data);
        const r = await child(cropArgs, 'roi-crop');
        if (r.status !== 'done') return r;
        if (!existsSync(join(crops, 'labels.csv')) && !existsSync(join(crops, 'female'))) {
          throw new CliError(
            `roi crop wrote no labels for the crops in ${crops}`,
            `The ${region} films need a labels.csv in their folder (${data.root}) for the crops to carry their sex.`,
          );
        }
        const split = await writeCropSplit(
          splitPath,
          data,
          { root: crops, labels: null, synthetic: null },
          cropSplitPath,
        );
        return {
          status: 'done',
          note: `${split.train.length} train / ${split.val.length} val / ${split.test.length} test crops (the films' split)`,
        };
      },
    });
    steps.push(trainStep('seqcnn-roi', ['--data', crops, '--split', cropSplitPath, ...spec.seqcnnRoi]));
  }
  const imagenet = weightsPaths(resolveCacheDir(), findPretrained('densenet121')!).safetensors;
  const weights = existsSync(imagenet) ? 'imagenet' : 'none';
  steps.push(
    trainStep(
      'densenet121',
      [...dataFlags, '--split', splitPath, ...spec.densenet(region), '--model', 'densenet121', '--weights', weights],
      undefined,
      async () => {
        if (weights === 'imagenet' || o.densenetFromScratch || existsSync(join(dir, 'densenet121', 'config.json')))
          return undefined;
        return {
          status: 'skipped',
          note: `no ImageNet weights of DenseNet-121 in the weights cache (${imagenet}): fetch them with 'spine-cli weights fetch densenet121' and run the same command again, or add --densenet-from-scratch`,
        };
      },
    ),
  );
  return steps;
}

async function regionSection(o: StudyOptions, state: StudyState, region: Region): Promise<RegionSection> {
  const splitPath = join(o.out, region, 'split.json');
  let split = null;
  if (existsSync(splitPath)) {
    const file = JSON.parse(await fs.readFile(splitPath, 'utf8')) as {
      splits: Record<'train' | 'val' | 'test', { counts: { female: number; male: number } }>;
    };
    split = { train: file.splits.train.counts, val: file.splits.val.counts, test: file.splits.test.counts };
  }
  const runs: RegionSection['runs'] = {};
  const approaches: Approach[] = ['seqcnn-full', 'seqcnn-roi', 'densenet121'];
  for (const approach of approaches) {
    const result = await readRunResult(o.out, region, approach, SEED);
    const st = state.steps[`${region}/${approach}`];
    if (result && st?.status === 'done') runs[approach] = result;
    else if (approach === 'seqcnn-roi' && !o.settings.roiReference[region]) {
      runs[approach] = {
        missing:
          region === 'cervical'
            ? "No ROI reference films, so no crops: give --roi-reference DIR (reference films and their rois.json, as the paper's 136 marked cervical films)."
            : "No ROI reference films for lumbar films of your own (the paper's CBIR step is cervical only), so no crops.",
      };
    } else
      runs[approach] = {
        missing:
          st?.status === 'skipped'
            ? `Not run: ${st.note}.`
            : 'Not finished yet: run the same command again to continue.',
      };
  }
  const done = approaches.map((a) => runs[a]).filter((r): r is RunResult => r !== undefined && 'report' in r);
  const splitNote = state.steps[`${region}/split`]?.note;
  return {
    region,
    split,
    splitHow: splitNote ? splitNote.split(':')[0]! : null,
    paperSplit: PAPER_SPLITS[region],
    runs,
    pairs: regionPairs(done),
  };
}

function syntheticNote(s: StudySettings): string | null {
  const sets = s.regions.map((r) => s.data[r]!.synthetic).filter((x) => x !== null);
  if (sets.length === 0) return null;
  const what = sets
    .map((x) => `${x!.region}: ${x!.count} films of phantom seed ${x!.seed}, ${x!.width} px wide`)
    .join('; ');
  return `The films are rendered by @spine/test-data's parametric phantom (${what}; the ROI reference films likewise), not NHANES II radiographs. The numbers show that the pipeline runs end to end; they say nothing about how well the paper's methods do on real films. The paper's numbers come from 9,667 cervical and 7,428 lumbar NHANES II films.`;
}

function summaryText(sections: RegionSection[]): string {
  const rows = sections.flatMap((s) =>
    (Object.entries(s.runs) as [Approach, RunResult | { missing: string }][]).map(([approach, r]) => {
      const paper = PAPER_RESULTS[`${s.region}/${approach}`];
      if (!('report' in r))
        return [s.region, APPROACH_NAMES[approach], '-', 'not run', '-', paper ? paper.accuracy.toFixed(3) : '-'];
      return [
        s.region,
        APPROACH_NAMES[approach],
        r.report.n,
        `${fmt3(r.report.accuracy)} (${fmtCI(r.report.accuracyCI95)})`,
        `${fmt3(r.report.rocAuc)} (${fmtCI(r.aucCI95)})`,
        paper ? paper.accuracy.toFixed(3) : '-',
      ];
    }),
  );
  return formatTable(['region', 'approach', 'test films', 'accuracy (95% CI)', 'ROC AUC (95% CI)', 'paper'], rows);
}
