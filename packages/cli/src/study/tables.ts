/**
 * The study page: the paper's Tables 1-6 with our numbers beside the published ones, a summary,
 * the paired tests, and each step's command. Built as a document (document.ts) that renders to
 * study.md and study.html.
 */
import type { SplitCounts } from '@spine/models';
import type { Block, Inline } from './document.js';
import { APPROACH_NAMES, type Approach, type PairedResult, type RunResult } from './results.js';
import type { Region, StudySettings } from './settings.js';
import type { StudyState } from './state.js';

/** The paper's published test results (Xue et al.; REFERENCE.md): confusion [[FF, FM], [MF, MM]] and accuracy. */
export const PAPER_RESULTS: Partial<
  Record<
    `${Region}/${Approach}`,
    { table: number; title: string; confusion: [[number, number], [number, number]]; accuracy: number }
  >
> = {
  'cervical/seqcnn-full': {
    table: 2,
    title: 'Sequential CNN on the original cervical films',
    confusion: [
      [506, 47],
      [65, 409],
    ],
    accuracy: 0.889,
  },
  'cervical/seqcnn-roi': {
    table: 3,
    title: 'Sequential CNN on the CBIR ROI crops of the cervical films',
    confusion: [
      [486, 67],
      [47, 427],
    ],
    accuracy: 0.89,
  },
  'cervical/densenet121': {
    table: 4,
    title: 'DenseNet-121 on the cervical films',
    confusion: [
      [546, 7],
      [2, 472],
    ],
    accuracy: 0.99,
  },
  'lumbar/densenet121': {
    table: 6,
    title: 'DenseNet-121 on the lumbar films',
    confusion: [
      [283, 10],
      [7, 468],
    ],
    accuracy: 0.98,
  },
};

const SPLIT_TABLE: Record<Region, number> = { cervical: 1, lumbar: 5 };

export interface RegionSection {
  region: Region;
  /** The split.json counts of the region's films, null until the split step ran. */
  split: SplitCounts | null;
  /** How the split was sized (paper counts or fractions), for its caption. */
  splitHow: string | null;
  /** The paper's split of the region (PAPER_SPLITS of @spine/models: Tables 1 and 5). */
  paperSplit: SplitCounts;
  /** Per approach: its result, or why there is none. */
  runs: Partial<Record<Approach, RunResult | { missing: string }>>;
  pairs: PairedResult[];
}

export interface StudyPage {
  studyDir: string;
  command: string[];
  settings: StudySettings;
  state: StudyState;
  sections: RegionSection[];
  /** Set when the films are synthetic: what they are, in a sentence. */
  syntheticNote: string | null;
}

// Evaluation reports hold null where a number is undefined (the AUC of a one-class test set).
export const fmt3 = (x: number | null) => (x !== null && Number.isFinite(x) ? x.toFixed(3) : 'n/a');
export const fmtCI = (ci: readonly [number, number] | null) =>
  ci !== null && Number.isFinite(ci[0]) ? `${fmt3(ci[0])}-${fmt3(ci[1])}` : 'n/a';
export const fmtP = (p: number) => (!Number.isFinite(p) ? 'n/a' : p >= 0.001 ? p.toFixed(3) : p.toExponential(1));

function isResult(r: RunResult | { missing: string } | undefined): r is RunResult {
  return r !== undefined && 'report' in r;
}

function reportLink(r: RunResult): Inline {
  return { a: `${r.run}/report/report.html`, href: `${r.run}/report/report.html` };
}

function splitBlocks(s: RegionSection): Block[] {
  const table = SPLIT_TABLE[s.region];
  const out: Block[] = [{ h: 2, text: `Table ${table}. The ${s.region} split`, id: `table-${table}` }];
  if (!s.split) return [...out, { p: ['Not made yet: the study stopped before this step.'] }];
  const paper = s.paperSplit;
  const rows: Inline[][][] = (['train', 'val', 'test'] as const).map((name) => [
    [name],
    [String(s.split![name].female)],
    [String(s.split![name].male)],
    [String(paper[name].female)],
    [String(paper[name].male)],
  ]);
  out.push({
    table: {
      header: ['set', 'ours: female', 'ours: male', 'paper: female', 'paper: male'],
      rows,
      numeric: [false, true, true, true, true],
    },
  });
  out.push({
    p: [
      `Ours: ${s.splitHow ?? 'split'}, stratified by sex, seed 0 (`,
      { code: `${s.region}/split.json` },
      '); every approach of this region is trained and tested on it.',
    ],
  });
  return out;
}

/** Titles of the runs the paper did not make (the sequential CNN on lumbar films). */
const EXTRA_TITLES: Record<Approach, (region: Region) => string> = {
  'seqcnn-full': (r) => `Sequential CNN on the original ${r} films`,
  'seqcnn-roi': (r) => `Sequential CNN on the CBIR ROI crops of the ${r} films`,
  densenet121: (r) => `DenseNet-121 on the ${r} films`,
};

function confusionBlocks(
  region: Region,
  approach: Approach,
  entry: RunResult | { missing: string } | undefined,
): Block[] {
  const paper = PAPER_RESULTS[`${region}/${approach}`];
  const title = paper ? `Table ${paper.table}. ${paper.title}` : `${EXTRA_TITLES[approach](region)} (not in the paper)`;
  const out: Block[] = [{ h: paper ? 2 : 3, text: title, ...(paper ? { id: `table-${paper.table}` } : {}) }];
  if (!isResult(entry)) return [...out, { p: [entry?.missing ?? 'Not run.'] }];
  const c = entry.report.confusion;
  const p = paper?.confusion;
  const rows: Inline[][][] = [
    [['true F'], [String(c[0][0])], [String(c[0][1])], ...(p ? [[String(p[0][0])], [String(p[0][1])]] : [])],
    [['true M'], [String(c[1][0])], [String(c[1][1])], ...(p ? [[String(p[1][0])], [String(p[1][1])]] : [])],
  ];
  out.push({
    table: {
      header: [
        '',
        'ours: predicted F',
        'ours: predicted M',
        ...(p ? ['paper: predicted F', 'paper: predicted M'] : []),
      ],
      rows,
      numeric: [false, true, true, true, true],
    },
  });
  const r = entry.report;
  out.push({
    p: [
      'Accuracy: ours ',
      { b: fmt3(r.accuracy) },
      ` (95% bootstrap CI ${fmtCI(r.accuracyCI95)}, ${r.n} test films)`,
      ...(paper
        ? [`; paper ${paper.accuracy.toFixed(3)} (${paper.confusion.flat().reduce((a, b) => a + b, 0)} films)`]
        : []),
      `. ROC AUC: ours ${fmt3(r.rocAuc)} (95% bootstrap CI ${fmtCI(entry.aucCI95)})${paper ? '; the paper gives none' : ''}. Run: `,
      reportLink(entry),
      ` (${entry.checkpoint} checkpoint; ${entry.inputSize} px, ${entry.epochs} epoch${entry.epochs === 1 ? '' : 's'}, from ${entry.startedFrom}${approach === 'densenet121' ? '; the paper fine-tuned ImageNet weights' : ''}).`,
    ],
  });
  return out;
}

function summaryBlocks(page: StudyPage): Block[] {
  const rows: Inline[][][] = [];
  for (const s of page.sections) {
    for (const [approach, entry] of Object.entries(s.runs) as [Approach, RunResult | { missing: string }][]) {
      const paper = PAPER_RESULTS[`${s.region}/${approach}`];
      if (!isResult(entry)) {
        rows.push([
          [s.region],
          [APPROACH_NAMES[approach]],
          [paper ? `Table ${paper.table}` : '-'],
          ['-'],
          ['not run'],
          ['-'],
          [paper ? paper.accuracy.toFixed(3) : '-'],
          ['-'],
        ]);
        continue;
      }
      const r = entry.report;
      rows.push([
        [s.region],
        [APPROACH_NAMES[approach]],
        [paper ? `Table ${paper.table}` : '-'],
        [String(r.n)],
        [`${fmt3(r.accuracy)} (${fmtCI(r.accuracyCI95)})`],
        [`${fmt3(r.rocAuc)} (${fmtCI(entry.aucCI95)})`],
        [paper ? paper.accuracy.toFixed(3) : '-'],
        [reportLink(entry)],
      ]);
    }
  }
  return [
    { h: 2, text: 'Summary' },
    {
      table: {
        header: [
          'region',
          'approach',
          'paper',
          'test films',
          'accuracy (95% CI)',
          'ROC AUC (95% CI)',
          'paper accuracy',
          'report',
        ],
        rows,
        numeric: [false, false, false, true, true, true, true, false],
      },
    },
  ];
}

function pairedBlocks(page: StudyPage): Block[] {
  const rows: Inline[][][] = page.sections.flatMap((s) =>
    s.pairs.map((q) => [
      [s.region],
      [`${APPROACH_NAMES[q.a]} vs ${APPROACH_NAMES[q.b]}`],
      [String(q.films)],
      [`${fmt3(q.accuracyA)} vs ${fmt3(q.accuracyB)}`],
      [`${q.mcnemar.b} / ${q.mcnemar.c}`],
      [fmtP(q.mcnemar.exactP)],
      [fmtP(q.mcnemar.midP)],
      [q.delong ? `${fmt3(q.delong.aucA)} vs ${fmt3(q.delong.aucB)}` : 'n/a'],
      [q.delong ? q.delong.z.toFixed(2) : 'n/a'],
      [q.delong ? fmtP(q.delong.p) : 'n/a'],
    ]),
  );
  return [
    { h: 2, text: 'Paired tests on the same test films' },
    {
      p: [
        "Two approaches of a region are tested on the same films (an ROI crop stands for its film), so their difference is tested pairwise: McNemar's test on the films exactly one of them classifies right (exact binomial and mid-p, two-sided), and DeLong's test of the two ROC AUCs with their covariance. ",
        'The paper reports no such tests.',
      ],
    },
    rows.length > 0
      ? {
          table: {
            header: [
              'region',
              'A vs B',
              'films',
              'accuracy A vs B',
              'only A right / only B right',
              'McNemar exact p',
              'McNemar mid-p',
              'AUC A vs B',
              'DeLong z',
              'DeLong p',
            ],
            rows,
            numeric: [false, false, true, true, true, true, true, true, true, true],
          },
        }
      : { p: ['No region has two finished approaches yet.'] },
  ];
}

function stepBlocks(page: StudyPage): Block[] {
  const rows: Inline[][][] = Object.entries(page.state.steps).map(([id, st]) => [
    [id],
    [st.status],
    [st.seconds !== undefined ? `${st.seconds.toFixed(0)} s` : '-'],
    [{ code: st.command.join(' ') }],
    [st.note ?? ''],
  ]);
  return [
    { h: 2, text: 'Steps' },
    {
      p: [
        'Each training step is an ordinary run folder: ',
        { code: 'spine-cli evaluate --run RUN' },
        ', ',
        { code: 'explain' },
        ' and ',
        { code: 'report' },
        ' work on it. Logs: ',
        { code: 'logs/' },
        '.',
      ],
    },
    { table: { header: ['step', 'status', 'time', 'command (spine-cli ...)', 'note'], rows } },
  ];
}

export function studyBlocks(page: StudyPage): Block[] {
  const blocks: Block[] = [
    { h: 1, text: "Gender detection from spine X-rays (Xue et al.): the paper's experiments" },
    {
      p: [
        `Scale ${page.settings.scale}, regions ${page.settings.regions.join(', ')}; made by `,
        { code: `spine-cli ${page.command.join(' ')}` },
        '.',
      ],
    },
  ];
  if (page.syntheticNote) blocks.push({ note: [{ b: 'The data is synthetic.' }, ` ${page.syntheticNote}`] });
  blocks.push(...summaryBlocks(page));
  for (const s of page.sections) {
    blocks.push(...splitBlocks(s));
    const order: Approach[] =
      s.region === 'cervical'
        ? ['seqcnn-full', 'seqcnn-roi', 'densenet121']
        : ['densenet121', 'seqcnn-full', 'seqcnn-roi'];
    for (const a of order) if (a in s.runs) blocks.push(...confusionBlocks(s.region, a, s.runs[a]));
  }
  blocks.push(...pairedBlocks(page), ...stepBlocks(page));
  return blocks;
}
