import type { Dataset, DatasetRecord } from '@spine/models';
import * as models from '@spine/models';
import { describe, expect, it } from 'vitest';
import { renderHtml, renderMarkdown, type Block } from '../src/study/document.js';
import { pairedResult, type RunResult } from '../src/study/results.js';
import { settingsChanges, type StudySettings } from '../src/study/settings.js';
import { cropFileName, paperFractions, planSplit } from '../src/study/split-step.js';

function dataset(female: number, male: number): Dataset {
  const records: DatasetRecord[] = [];
  for (let i = 0; i < female + male; i++)
    records.push({ path: `/d/${i}.png`, file: `${i}.png`, label: i < female ? 0 : 1 } as DatasetRecord);
  return { root: '/d', source: '/d/labels.csv', records, skipped: [] };
}

describe('study splits', () => {
  it("take the paper's counts when the data has them (NHANES II has exactly them), else its fractions", () => {
    expect(planSplit('cervical', dataset(5053, 4614))).toEqual({
      how: 'paper counts',
      counts: models.PAPER_SPLITS.cervical,
    });
    expect(planSplit('lumbar', dataset(2833, 4595)).how).toBe('paper counts');
    // One female short of Table 5.
    const lumbar = planSplit('lumbar', dataset(2832, 4595));
    expect(lumbar.how).toBe('paper fractions');
    expect(lumbar.fractions![0]).toBeCloseTo(5930 / 7428, 12);
    expect(lumbar.fractions![1]).toBeCloseTo(730 / 7428, 12);
    const [t, v, e] = paperFractions(models.PAPER_SPLITS.cervical);
    expect([t, v, e].map((x) => x * 9667)).toEqual([
      expect.closeTo(7680, 9),
      expect.closeTo(960, 9),
      expect.closeTo(1027, 9),
    ]);
    expect(t + v + e).toBe(1);
  });

  it('a crop is named as roi crop names it', () => {
    expect([cropFileName('a/b.tif'), cropFileName('c.png'), cropFileName('noext')]).toEqual([
      'a/b.png',
      'c.png',
      'noext.png',
    ]);
  });
});

describe('study settings', () => {
  const base: StudySettings = {
    scale: 'smoke',
    regions: ['cervical', 'lumbar'],
    data: {
      cervical: { root: '/c', labels: null, synthetic: null },
      lumbar: { root: '/l', labels: null, synthetic: null },
    },
    roiReference: { cervical: { root: '/r', labels: null, synthetic: null }, lumbar: null },
  };
  it('name each change as its flag', () => {
    expect(settingsChanges(base, structuredClone(base))).toEqual([]);
    const other: StudySettings = {
      ...structuredClone(base),
      scale: 'paper',
      regions: ['cervical'],
      data: { cervical: { root: '/c', labels: '/c/x.csv', synthetic: null } },
      roiReference: { cervical: null },
    };
    expect(settingsChanges(base, other)).toEqual([
      '--scale was smoke, now paper',
      '--regions was cervical,lumbar, now cervical',
      '--cervical was /c, now /c/x.csv',
      'the cervical ROI reference films were /r, now none',
      '--lumbar was /l, now none',
    ]);
  });
});

describe('paired results', () => {
  const run = (approach: RunResult['approach'], files: string[], probs: number[]): RunResult =>
    ({
      region: 'cervical',
      approach,
      run: `cervical/${approach}`,
      checkpoint: 'best',
      report: { threshold: 0.5 },
      aucCI95: [0, 1],
      predictions: files.map((file, i) => ({ file, label: (i % 2) as 0 | 1, probMale: probs[i]! })),
      startedFrom: 'random init',
      inputSize: 32,
      epochs: 1,
    }) as RunResult;
  it('match a film to its crop by name, and count who was right where the other was wrong', () => {
    // Labels F M F M F M; A right on 0-3, B right on 2-5 and on a film A never saw.
    const a = run(
      'seqcnn-full',
      ['0.tif', '1.tif', '2.tif', '3.tif', '4.tif', '5.tif'],
      [0.1, 0.9, 0.2, 0.8, 0.7, 0.3],
    );
    const b = run(
      'seqcnn-roi',
      ['0.png', '1.png', '2.png', '3.png', '4.png', '5.png', '6.png'],
      [0.6, 0.4, 0.2, 0.8, 0.1, 0.9, 0.1],
    );
    const p = pairedResult(a, b);
    expect(p).toMatchObject({
      films: 6,
      accuracyA: 4 / 6,
      accuracyB: 4 / 6,
      mcnemar: { b: 2, c: 2, bothRight: 2, bothWrong: 0 },
    });
    expect(p.delong!.aucA).toBeCloseTo(models.rocAuc([0, 1, 0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8, 0.7, 0.3]), 12);
  });
});

describe('study page', () => {
  const blocks: Block[] = [
    { h: 2, text: 'Table 1. <split>', id: 'table-1' },
    {
      p: [
        'a | b ',
        { b: 'bold' },
        ' ',
        { code: 'spine-cli x' },
        ' ',
        { a: 'run report', href: 'cervical/seqcnn full/report/report.html' },
      ],
    },
    { table: { header: ['set', 'n'], rows: [[['train'], ['3']]], numeric: [false, true] } },
  ];
  it('renders the same document as Markdown and as HTML, escaped for each', () => {
    expect(renderMarkdown(blocks)).toBe(
      [
        '## Table 1. <split>',
        '',
        'a \\| b **bold** `spine-cli x` [run report](cervical/seqcnn%20full/report/report.html)',
        '',
        '| set | n |',
        '|---|---:|',
        '| train | 3 |',
        '',
      ].join('\n'),
    );
    const html = renderHtml('t', blocks);
    expect(html).toContain('<h2 id="table-1">Table 1. &lt;split&gt;</h2>');
    expect(html).toContain(
      '<p>a | b <strong>bold</strong> <code>spine-cli x</code> <a href="cervical/seqcnn%20full/report/report.html">run report</a></p>',
    );
    expect(html).toContain('<td class="num">3</td>');
    expect(html).not.toMatch(/<script|https?:/);
  });
});
