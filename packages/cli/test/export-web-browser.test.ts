// The exported page, used as a person would: Debian's headless chromium (WebGPU through
// SwiftShader with --enable-unsafe-webgpu) opens it from a localhost server, films are dropped
// on it, and its predictions must equal `spine-cli predict`'s for the same run and films
// (probabilities within 1e-3). Also: the CSV download, the Grad-CAM panel with its opacity
// slider driven from the keyboard, the "Show" buttons, a chosen folder, a wrong model file, a
// training checkpoint picked with its config.json, no WebGPU, and no model next to the page.
// SPINE_WEB_SCREENSHOTS=1 also writes docs/web-*.png.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './run-cli.js';
import { copySampleFilms, trainTinyRun } from './sample-films.js';

// The functions given to page.evaluate run in chromium; this tsconfig has no DOM lib, so the few
// browser globals they use are declared here (module-scoped, types only).
interface PageElement {
  textContent: string | null;
  hidden: boolean;
  style: { opacity: string };
  classList: { contains(name: string): boolean };
  closest(selector: string): PageElement;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } };
}
interface PageResult {
  file: string;
  probMale?: number;
  error?: string;
}
declare const document: {
  body: { dataset: Record<string, string | undefined> };
  documentElement: { scrollWidth: number };
  getElementById(id: string): PageElement;
};
declare const window: { spineWeb: { results(): PageResult[] } };
declare const DataTransfer: new () => { items: { add(file: unknown): void } };
declare const File: new (parts: unknown[], name: string) => unknown;
declare const Navigator: { prototype: { gpu?: unknown } };

const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const screenshots = process.env.SPINE_WEB_SCREENSHOTS === '1' ? join(repoRoot, 'docs') : undefined;
const sample = join(repoRoot, 'test-data/sample/cervical');
const fixtures = join(repoRoot, 'packages/imaging/test/fixtures');
const dir = mkdtempSync(join(tmpdir(), 'spine-cli-export-web-browser-'));
const run = join(dir, 'run');
const site = join(dir, 'site');
const filmsDir = join(dir, 'films');
let films: string[] = [];
/** predict's CSV rows by file name: [predicted_sex, probability_male, uncertain]. */
const expected = new Map<string, [string, number, string]>();
let server: Server;
let origin = '';
const requests: string[] = [];
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `${chromiumPath} is missing: this test drives Debian's chromium. Install it with 'apt-get install -y chromium' (npm run setup does this as root), or set CHROMIUM to a chromium binary.`,
    );
  }
  const data = join(dir, 'data');
  mkdirSync(data);
  mkdirSync(filmsDir);
  copySampleFilms(data, 40);
  const lines = readFileSync(join(sample, 'labels.csv'), 'utf8').trim().split('\n');
  await trainTinyRun(data, run, 2);
  // Films the run has not seen, and one of each other format.
  for (const line of lines.slice(60, 65))
    copyFileSync(join(sample, line.split(',')[0]!), join(filmsDir, line.split(',')[0]!));
  for (const f of ['grey8-lzw.tif', 'grey-baseline.jpg', 'mono2-8bit.dcm'])
    copyFileSync(join(fixtures, f), join(filmsDir, f));
  films = readdirSync(filmsDir)
    .sort()
    .map((f) => join(filmsDir, f));
  const predicted = await runCli(['predict', '--run', run, ...films, '--out', join(dir, 'predict.csv')]);
  if (predicted.code !== 0) throw new Error(`predict failed: ${predicted.stderr}`);
  for (const row of readFileSync(join(dir, 'predict.csv'), 'utf8').trim().split('\n').slice(1)) {
    const c = row.split(',');
    expected.set(basename(c[0]!), [c[1]!, Number(c[2]), c[3]!]);
  }
  const exported = await runCli(['export-web', run, '--out', site]);
  if (exported.code !== 0) throw new Error(`export-web failed: ${exported.stderr}`);
  server = serveStatic(site);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--enable-unsafe-webgpu'] });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A localhost static server over the exported folder; every request is recorded. */
function serveStatic(root: string): Server {
  const types: Record<string, string> = {
    '.html': 'text/html; charset=utf-8',
    '.js': 'text/javascript',
    '.css': 'text/css',
    '.txt': 'text/plain',
  };
  return createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    requests.push(path);
    const file = join(root, path === '/' ? 'index.html' : path.slice(1));
    if (path.includes('..') || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
}

interface Watched {
  page: Page;
  errors: string[];
}

async function openPage(query = '', init?: () => void): Promise<Watched> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  if (init) await page.addInitScript(init);
  await page.goto(`${origin}/${query}`);
  await page.waitForFunction(
    () => ['ready', 'no-model', 'no-webgpu'].includes(document.body.dataset.state ?? ''),
    null,
    { timeout: 120_000 },
  );
  return { page, errors };
}

/** Drops files on the drop zone the way a browser delivers a drag from the desktop. */
async function dropFiles(page: Page, paths: readonly string[]): Promise<void> {
  const files = paths.map((p) => ({ name: basename(p), base64: readFileSync(p).toString('base64') }));
  const transfer = await page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name));
    return dt;
  }, files);
  await page.dispatchEvent('#drop-zone', 'dragover', { dataTransfer: transfer });
  await page.dispatchEvent('#drop-zone', 'drop', { dataTransfer: transfer });
}

/** The results once the page has finished exactly these films (so an earlier batch's results never pass). */
async function waitForResults(page: Page, names: readonly string[]) {
  const want = JSON.stringify([...names].sort());
  await page.waitForFunction(
    (w) => {
      const rs = window.spineWeb.results();
      return (
        document.body.dataset.state === 'ready' &&
        JSON.stringify(rs.map((r) => r.file)) === w &&
        rs.every((r) => r.probMale !== undefined || r.error !== undefined)
      );
    },
    want,
    { timeout: 120_000 },
  );
  return page.evaluate(() => window.spineWeb.results());
}

describe.sequential('the exported page in chromium', () => {
  let main: Watched;

  it('loads the model beside it and predicts dropped films exactly as spine-cli predict does', async () => {
    main = await openPage();
    const { page, errors } = main;
    expect(await page.evaluate(() => document.body.dataset.state)).toBe('ready');
    expect(await page.textContent('#model-info')).toMatch(
      /model\.safetensors \(run run, best checkpoint, epoch \d+\): sequential CNN, 32x32 input \(stretch\)/,
    );
    const notImage = join(dir, 'notes.txt');
    writeFileSync(notImage, 'not a film');
    await dropFiles(page, [...films, notImage]);
    const results = await waitForResults(page, [...films.map((f) => basename(f)), 'notes.txt']);
    expect(results.map((r) => r.file)).toEqual([...films.map((f) => basename(f)), 'notes.txt'].sort());
    for (const r of results) {
      if (r.file === 'notes.txt') {
        expect(r.error).toMatch(/^not an image the classifier can read: not a recognised image/);
        continue;
      }
      const [, probMale] = expected.get(r.file)!;
      expect(r.error, r.file).toBeUndefined();
      expect(Math.abs(r.probMale! - probMale), r.file).toBeLessThan(1e-3);
    }
    // The probabilities differ between films, so equality with predict is not a coincidence.
    expect(
      new Set(results.filter((r) => r.probMale !== undefined).map((r) => r.probMale!.toFixed(4))).size,
    ).toBeGreaterThan(3);
    expect(await page.textContent('#alert')).toContain('1 of 9 files could not be classified');
    expect(await page.textContent('#status')).toBe('Done: 8 of 9 films classified.');
    expect(errors).toEqual([]);
    // Nothing but the page, its script, style and model was requested: films stay in the browser.
    expect([...new Set(requests)].sort()).toEqual(['/', '/app.js', '/model.safetensors', '/style.css']);
  });

  it("downloads the table as a CSV with predict's columns, verdicts and (to 1e-3) probabilities", async () => {
    const { page } = main;
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
    expect(download.suggestedFilename()).toBe('predictions.csv');
    const csv = readFileSync(await download.path(), 'utf8');
    const [header, ...rows] = csv.trim().split('\n');
    expect(header).toBe(readFileSync(join(dir, 'predict.csv'), 'utf8').split('\n')[0]);
    expect(rows).toHaveLength(films.length + 1);
    for (const row of rows) {
      const c = row.split(',');
      if (c[0] === 'notes.txt') continue;
      const [sex, probMale, uncertain] = expected.get(c[0]!)!;
      expect([c[1], c[3]], c[0]).toEqual([sex, uncertain]);
      expect(Math.abs(Number(c[2]) - probMale)).toBeLessThan(1e-3);
    }
  });

  it('shows the film with its Grad-CAM layer; the opacity slider and the Show buttons work from the keyboard', async () => {
    const { page, errors } = main;
    const first = [...films.map((f) => basename(f))].sort()[0]!;
    expect(await page.textContent('#result-file')).toBe(first);
    const [sex, probMale, uncertain] = expected.get(first)!;
    expect(await page.textContent('#prediction')).toBe(sex === 'M' ? 'Male' : 'Female');
    expect(Number(await page.textContent('#prob-male'))).toBeCloseTo(probMale, 3);
    expect((await page.textContent('#uncertain'))!.startsWith(uncertain === 'yes' ? 'Uncertain' : 'Confident')).toBe(
      true,
    );
    // The map layer is drawn (not blank) and differs from the film under it.
    const layers = await page.evaluate(() => {
      const px = (id: string) =>
        Array.from(document.getElementById(id).getContext('2d').getImageData(0, 0, 64, 64).data);
      return { film: px('film-canvas'), cam: px('cam-canvas') };
    });
    expect(layers.cam.some((v, i) => i % 4 !== 3 && Math.abs(v - layers.film[i]!) > 40)).toBe(true);
    expect(await page.$eval('#cam-canvas', (c) => (c as unknown as PageElement).style.opacity)).toBe('0.45');
    await page.focus('#opacity');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    expect(await page.$eval('#cam-canvas', (c) => (c as unknown as PageElement).style.opacity)).toBe('0.55');
    expect(await page.textContent('#opacity-value')).toBe('55%');
    if (screenshots) await page.locator('#result').screenshot({ path: join(screenshots, 'web-result.png') });
    // Show the third film: Tab to its button and press Enter.
    const third = [...films.map((f) => basename(f))].sort()[2]!;
    await page.focus(`button[aria-label="Show ${third}"]`);
    await page.keyboard.press('Enter');
    await page.waitForFunction((name) => document.getElementById('result-file').textContent === name, third);
    expect(
      await page.$eval(`button[aria-label="Show ${third}"]`, (b) =>
        (b as unknown as PageElement).closest('tr').classList.contains('current'),
      ),
    ).toBe(true);
    if (screenshots) await page.screenshot({ path: join(screenshots, 'web-batch.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('says so when the chosen model file is wrong, and keeps the loaded model', async () => {
    const { page, errors } = main;
    await page.setInputFiles('#model-input', [films[0]!]);
    // The alert still shows the batch's problem until the model file has been read.
    await page.waitForFunction(() =>
      (document.getElementById('alert').textContent ?? '').includes('is not a model this page can run'),
    );
    const alert = await page.textContent('#alert');
    expect(alert).toContain(`${basename(films[0]!)} is not a model this page can run: not a readable safetensors file`);
    expect(alert).toContain("Load the model.safetensors that 'spine-cli export-web RUN --out DIR' wrote");
    expect(await page.evaluate(() => document.body.dataset.state)).toBe('ready');
    expect(await page.textContent('#status')).toBe('The previous model is still loaded.');
    expect(errors).toEqual([]);
  });

  it('classifies a chosen folder, naming films by their path inside it and skipping other files', async () => {
    const { page } = main;
    const folder = join(dir, 'folder');
    mkdirSync(join(folder, 'sub'), { recursive: true });
    copyFileSync(films[0]!, join(folder, 'a.png'));
    copyFileSync(films[1]!, join(folder, 'sub', 'b.png'));
    writeFileSync(join(folder, 'notes.txt'), 'not a film');
    await page.setInputFiles('#folder-input', folder);
    const results = await waitForResults(page, ['folder/a.png', 'folder/sub/b.png']);
    expect(Math.abs(results[0]!.probMale! - expected.get(basename(films[0]!))![1])).toBeLessThan(1e-3);
    expect(Math.abs(results[1]!.probMale! - expected.get(basename(films[1]!))![1])).toBeLessThan(1e-3);
  });

  it("loads a training checkpoint picked with the run's config.json and predicts the same", async () => {
    const { page } = main;
    const checkpoint = readdirSync(join(run, 'checkpoints')).find(
      (f) => f.startsWith('best-') && f.endsWith('.safetensors'),
    )!;
    await page.setInputFiles('#model-input', [join(run, 'checkpoints', checkpoint), join(run, 'config.json')]);
    await page.waitForFunction(
      (name) => (document.getElementById('model-info').textContent ?? '').startsWith(name),
      `${checkpoint} + config.json`,
    );
    await dropFiles(page, films.slice(0, 2));
    const results = await waitForResults(
      page,
      films.slice(0, 2).map((f) => basename(f)),
    );
    for (const r of results) expect(Math.abs(r.probMale! - expected.get(r.file)![1])).toBeLessThan(1e-3);
    await page.close();
  });

  it('explains what is missing when the browser has no WebGPU', async () => {
    const { page, errors } = await openPage('', () => {
      delete Navigator.prototype.gpu;
    });
    expect(await page.evaluate(() => document.body.dataset.state)).toBe('no-webgpu');
    expect(await page.textContent('#alert')).toMatch(/This browser does not offer WebGPU, which the classifier needs/);
    expect(await page.getAttribute('#drop-zone', 'aria-disabled')).toBe('true');
    expect(await page.isDisabled('#film-input')).toBe(true);
    if (screenshots) await page.screenshot({ path: join(screenshots, 'web-no-webgpu.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('asks for a model when none is beside the page; films come from the keyboard; usable at phone width', async () => {
    const { page } = await openPage('?model=missing.safetensors');
    // Intercept file choosers from here on: waitForEvent('filechooser') turns interception on
    // asynchronously, and under load the key press below could open the chooser first (a flake).
    page.on('filechooser', () => undefined);
    expect(await page.evaluate(() => document.body.dataset.state)).toBe('no-model');
    expect(await page.textContent('#model-info')).toBe(
      'No model was found next to this page (missing.safetensors: HTTP 404). Load a model file.',
    );
    expect(await page.getAttribute('#drop-zone', 'aria-disabled')).toBe('true');
    await dropFiles(page, [films[0]!]);
    expect(await page.textContent('#alert')).toBe(
      'Load a model first (the Load a model file button): the page has none yet.',
    );
    await page.setViewportSize({ width: 390, height: 844 });
    await page.setInputFiles('#model-input', [join(site, 'model.safetensors')]);
    await page.waitForFunction(() => document.body.dataset.state === 'ready');
    // Enter on the focused drop zone opens the file chooser.
    await page.focus('#drop-zone');
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Enter')]);
    expect(chooser.isMultiple()).toBe(true);
    await chooser.setFiles([films[1]!]);
    const [one] = await waitForResults(page, [basename(films[1]!)]);
    expect(Math.abs(one!.probMale! - expected.get(basename(films[1]!))![1])).toBeLessThan(1e-3);
    // Nothing sticks out sideways on a narrow screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    if (screenshots) await page.screenshot({ path: join(screenshots, 'web-phone.png'), fullPage: true });
    await page.close();
  });
});
