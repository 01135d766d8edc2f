import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { decodeImage } from '@spine/imaging';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';
import { copySampleFilms, trainTinyRun } from './sample-films.js';
const dir = mkdtempSync(join(tmpdir(), 'spine-cli-report-'));
const data = join(dir, 'data');
const run = join(dir, 'run');
const report = join(run, 'report');
let trainStderr = '';
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CHARTS = ['split-counts', 'loss', 'accuracy', 'learning-rate', 'confusion', 'roc', 'calibration'];
/** Debian's chromium; CHROMIUM may point at another build of it. */
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';

beforeAll(async () => {
  mkdirSync(data);
  copySampleFilms(data, 60);
  trainStderr = (await trainTinyRun(data, run, 2)).stderr;
});

const isPng = (path: string) =>
  readFileSync(path)
    .subarray(0, 8)
    .equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));

describe.sequential('report', () => {
  it('writes report.html, every chart as SVG (from Vega) and PNG, and the Grad-CAM pictures', async () => {
    const r = await runCli(['report', run, '--workers', '0', '--gallery', '3', '--average-films', '2']);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`Wrote ${join(report, 'report.html')}`);
    for (const name of CHARTS) {
      const svg = readFileSync(join(report, `${name}.svg`), 'utf8');
      expect(svg).toMatch(/^<svg [^>]*class="marks"/); // rendered by vega's SVG renderer
      expect(isPng(join(report, `${name}.png`))).toBe(true);
    }
    expect(isPng(join(report, 'gradcam-average-female.png')) && isPng(join(report, 'gradcam-average-male.png'))).toBe(
      true,
    );
    const gallery = readdirSync(join(report, 'gallery'));
    const ev = JSON.parse(readFileSync(join(run, 'eval', 'test-best.json'), 'utf8'));
    const wrong = ev.confusion[0][1] + ev.confusion[1][0];
    expect(gallery.filter((f) => f.includes('-right-'))).toHaveLength(Math.min(3, ev.n - wrong));
    expect(gallery.filter((f) => f.includes('-wrong-'))).toHaveLength(Math.min(3, wrong));

    const html = readFileSync(join(report, 'report.html'), 'utf8');
    // Self-contained: every src/href is inline data or a fragment; no style or script pulls anything in.
    const refs = [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter((u) => !u.startsWith('data:') && !u.startsWith('#'))).toEqual([]);
    expect(html).not.toMatch(/<script|@import|url\((?!#)/);
    // The tables carry the run's numbers.
    const split = JSON.parse(readFileSync(join(run, 'split.json'), 'utf8'));
    expect(html).toContain(
      `<tr><td>test</td><td class="num">${split.splits.test.counts.female}</td><td class="num">${split.splits.test.counts.male}</td>`,
    );
    expect(html).toContain(`${(100 * ev.accuracy).toFixed(1)}%`);
    expect(html).toContain('synthetic phantoms');
    expect(html).toContain(`left, the mean of 2 of the ${split.splits.test.counts.female} female test films`);
    // The class averages are drawn at the films' aspect (128x154): the mean film (grey but for thin contour lines), a white gap, the heat over it.
    for (const sex of ['female', 'male']) {
      const img = decodeImage(readFileSync(join(report, `gradcam-average-${sex}.png`)), sex);
      const px = (x: number, y: number) =>
        Array.from(img.data.subarray(3 * (y * img.width + x), 3 * (y * img.width + x) + 3));
      const white = (x: number) =>
        Array.from({ length: img.height }, (_, y) => px(x, y)).every((p) => p.every((v) => v === 1));
      const panel = Array.from({ length: img.width }, (_, x) => x).find(white)!;
      expect(Math.abs(panel - Math.round((img.height * 128) / 154)), sex).toBeLessThanOrEqual(1);
      let gap = panel;
      while (white(gap)) gap++;
      expect(img.width - gap, sex).toBe(panel);
      let notGrey = 0;
      let coloured = 0;
      for (let y = 0; y < img.height; y++) {
        for (let x = 0; x < panel; x++) if (new Set(px(x, y)).size > 1) notGrey++;
        for (let x = gap; x < img.width; x++) if (new Set(px(x, y)).size > 1) coloured++;
      }
      expect(notGrey / (panel * img.height), sex).toBeLessThan(0.05);
      expect(coloured / (panel * img.height), sex).toBeGreaterThan(0.9);
    }
  });

  it("opens in Debian's headless chromium: no console errors, no network requests, every figure drawn", async () => {
    if (!existsSync(chromiumPath)) {
      throw new Error(
        `${chromiumPath} is missing: the report test drives Debian's chromium. Install it with 'apt-get install -y chromium' (npm run setup does this as root), or set CHROMIUM to a chromium binary.`,
      );
    }
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const problems: string[] = [];
      const url = pathToFileURL(join(report, 'report.html')).href;
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('request', (req) => {
        if (req.url() !== url && !req.url().startsWith('data:')) problems.push(`request: ${req.url()}`);
      });
      await page.goto(url, { waitUntil: 'load' });
      for (const name of [...CHARTS, 'average-female', 'average-male']) {
        const box = await page.locator(`[data-figure="${name}"]`).boundingBox();
        expect(box, name).not.toBeNull();
        expect(box!.width, name).toBeGreaterThan(100);
        expect(box!.height, name).toBeGreaterThan(100);
      }
      // Every picture decoded (a broken data URI has naturalWidth 0).
      const images = await page.$$eval('img', (els) =>
        els.map((e) => {
          const img = e as unknown as { complete: boolean; naturalWidth: number }; // no DOM lib in this tsconfig
          return { alt: e.getAttribute('alt'), ok: img.complete && img.naturalWidth > 0 };
        }),
      );
      expect(images.length).toBeGreaterThanOrEqual(3);
      expect(images.filter((i) => !i.ok)).toEqual([]);
      // Charts drew marks: the ROC line and the confusion cells are in the DOM as SVG paths.
      expect(await page.locator('#figure-roc path').count()).toBeGreaterThan(3);
      expect(await page.locator('#figure-confusion path').count()).toBeGreaterThanOrEqual(4);
      await page.screenshot({ path: join(report, 'screenshot.png'), fullPage: true });
      expect(isPng(join(report, 'screenshot.png'))).toBe(true);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('train wrote the report at the end of the run; a report that cannot be written only warns', async () => {
    // beforeAll's train call already wrote it (the explicit report call above rewrote it).
    expect(trainStderr).toContain(`Report: ${join(report, 'report.html')}`);
    const blocked = join(dir, 'blocked');
    mkdirSync(blocked);
    writeFileSync(join(blocked, 'report'), 'a file where the report folder would go');
    const r = await runCli([
      'train',
      '--data',
      data,
      '--input-size',
      '32',
      '--workers',
      '0',
      '--epochs',
      '1',
      '--out',
      blocked,
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /warning: the report could not be written \(.+\); the run itself is saved\. Retry with: spine-cli report /,
    );
    expect(existsSync(join(blocked, 'checkpoints', 'best.json'))).toBe(true);
    expect(existsSync(join(blocked, 'eval', 'test-best.json'))).toBe(true);
  });

  it('usage: needs one run directory; a folder without a run is a clear error', async () => {
    expect((await runCli(['report'])).stderr).toContain('missing RUN');
    const none = await runCli(['report', join(dir, 'nothing')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('not a spine-cli run directory');
    const bad = await runCli(['report', run, '--gallery', 'many']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--gallery must be an integer');
  });

  it('--max-pixels bounds the films the Grad-CAM pictures decode', async () => {
    const r = await runCli([
      'report',
      run,
      '--workers',
      '0',
      '--gallery',
      '2',
      '--average-films',
      '2',
      '--max-pixels',
      '100',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(join(report, 'report.html'), 'utf8');
    expect(html).toMatch(/\d+ test film\(s\) could not be read: [^<]*is above the limit of 100 pixels/);
    expect(existsSync(join(report, 'gallery')) ? readdirSync(join(report, 'gallery')) : []).toEqual([]);
  });
});
