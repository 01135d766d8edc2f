/**
 * The report's Grad-CAM part: a gallery of test films (most confident right, most confident
 * wrong) with the map of the predicted class over the film, and the class-averaged maps over the
 * whole test split (each film explained for its true sex: where the evidence for that sex lies).
 */
import { encodePng } from '@spine/imaging';
import { readImage } from '@spine/imaging/node';
import { CamAverager, camOverlay, classAverageOverlay, explainFiles } from '@spine/models';
import type { Module } from '@spine/nn';
import { pickGallery } from './curves.js';
import type { TestEvaluation, TestPrediction } from './run-data.js';

export interface GalleryFilm {
  /** Path relative to the data root. */
  file: string;
  truth: 'F' | 'M';
  predicted: 'F' | 'M';
  /** Probability of the predicted sex. */
  confidence: number;
  correct: boolean;
  /** The overlay, PNG bytes. */
  png: Uint8Array;
}

export interface ClassAverageFigure {
  sex: 'female' | 'male';
  /** Films averaged, of the test films of this sex. */
  films: number;
  of: number;
  png: Uint8Array;
}

export interface ExplainedTestSet {
  layer: string;
  right: GalleryFilm[];
  wrong: GalleryFilm[];
  averages: ClassAverageFigure[];
  /** Test films that could not be read (not in the pictures). */
  unreadable: string[];
}

export interface ExplainOptions {
  /** Films per gallery row (right and wrong). */
  count: number;
  /**
   * At most this many test films per sex go into the class averages (evenly spaced through the
   * test split; 0: all). Grad-CAM costs a forward and a partial backward per film, which is
   * seconds per film for the paper's network on a software adapter.
   */
  averageFilms: number;
  transform: { width: number; height: number; resize?: 'stretch' | 'shorter-side-crop' };
  /** Absolute path of each test film, by its data-relative name. */
  pathOf: (file: string) => string;
  /** Largest film (width x height) to decode; default @spine/imaging's DEFAULT_MAX_PIXELS. */
  maxPixels?: number;
  onProgress?: (done: number, total: number) => void;
}

export async function explainTestSet(
  model: Module,
  test: TestEvaluation,
  options: ExplainOptions,
): Promise<ExplainedTestSet> {
  const predictions = averageSubset(test.predictions, options.averageFilms);
  const paths = predictions.map((p) => options.pathOf(p.file));
  const averager = new CamAverager(options.transform.width, options.transform.height);
  const unreadable: string[] = [];
  let layer = '';
  let done = 0;
  for await (const r of explainFiles(model, paths, options.transform, {
    classFor: (i) => predictions[i]!.label,
    maxPixels: options.maxPixels,
  })) {
    options.onProgress?.(++done, paths.length);
    if ('error' in r) {
      unreadable.push(`${r.file}: ${r.error}`);
      continue;
    }
    layer = r.layer;
    averager.add(r.classIndex, r.map, r.height, r.width, r.grey, r.aspect);
  }
  const averages = averager.averages().map((a) => ({
    sex: a.classIndex === 1 ? ('male' as const) : ('female' as const),
    films: a.films,
    of: test.predictions.filter((p) => p.label === a.classIndex).length,
    png: encodePng(classAverageOverlay(a)),
  }));

  const picks = pickGallery(test.predictions, options.count, test.report.threshold);
  const chosen = [...picks.right, ...picks.wrong];
  const films: GalleryFilm[] = [];
  let k = 0;
  for await (const r of explainFiles(
    model,
    chosen.map((c) => options.pathOf(c.item.file)),
    options.transform,
    { maxPixels: options.maxPixels },
  )) {
    const pick = chosen[k++]!;
    if ('error' in r) continue; // already listed as unreadable above
    const film = await readImage(r.file, options.maxPixels === undefined ? {} : { maxPixels: options.maxPixels });
    const overlay = camOverlay(film, r.map, r.height, r.width, options.transform, { maxSide: 320 });
    films.push(galleryFilm(pick.item, pick.correct, pick.confidence, encodePng(overlay)));
  }
  return { layer, right: films.filter((f) => f.correct), wrong: films.filter((f) => !f.correct), averages, unreadable };
}

function galleryFilm(p: TestPrediction, correct: boolean, confidence: number, png: Uint8Array): GalleryFilm {
  const truth = p.label === 1 ? 'M' : 'F';
  const predicted = correct ? truth : truth === 'M' ? 'F' : 'M';
  return { file: p.file, truth, predicted, confidence, correct, png };
}

/** Up to `perClass` films of each sex, evenly spaced through the list (all when perClass is 0). */
export function averageSubset<P extends { label: number }>(predictions: readonly P[], perClass: number): P[] {
  if (perClass <= 0) return [...predictions];
  const out: P[] = [];
  for (const label of [0, 1]) {
    const films = predictions.filter((p) => p.label === label);
    const step = Math.max(1, films.length / perClass);
    for (let k = 0; k < Math.min(perClass, films.length); k++) out.push(films[Math.floor(k * step)]!);
  }
  return out;
}
