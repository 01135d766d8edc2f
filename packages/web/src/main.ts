/**
 * The page: acquires WebGPU, loads the model (model.safetensors next to the page, a `?model=URL`,
 * or a file the user picks), then classifies films as they are dropped or chosen, a few per
 * batch, filling the table and showing the first film of each drop. `window.spineWeb` exposes
 * the state, the results and the timings for tests and measurements.
 */
import * as T from '@spine/tensor';
import { decodeImage, type Image } from '@spine/imaging';
import { Classifier, type FilmCam } from './classifier.js';
import { filmsFromDrop, filmsFromInput, type FilmFile } from './film-files.js';
import { filmAlert, filmProblem, modelProblem, NO_WEBGPU, noAdapter, notSecureContext, firstLine } from './messages.js';
import { readModelFiles, type NamedBytes, type WebModel } from './model-file.js';
import { resultsCsv, type FilmResult } from './results-csv.js';
import { TrainPanel, type TrainingStatus } from './train/panel.js';
import { View } from './view.js';

/** Films per GPU batch: large enough to amortise a submit, small enough to show progress often. */
const BATCH = 4;
const DISPLAY_SIDE = 512;
const NO_MODEL_YET = 'Load a model first (the Load a model file button): the page has none yet.';

interface Timings {
  /** ms from navigation start until WebGPU was acquired, until the model was ready. */
  deviceReadyMs?: number;
  modelReadyMs?: number;
  /** ms per film (read, decode, preprocess, network and Grad-CAM), batch time shared evenly. */
  perFilmMs: number[];
}

const view = new View();
const timings: Timings = { perFilmMs: [] };
let classifier: Classifier | undefined;
let films: FilmFile[] = [];
let results: FilmResult[] = [];
let cams: (FilmCam | undefined)[] = [];
let busy = false;
const trainPanel = new TrainPanel(useModel, (text) => view.showAlert(text));

declare global {
  interface Window {
    spineWeb: {
      state: () => string | undefined;
      results: () => FilmResult[];
      csv: () => string;
      timings: Timings;
      model: () => string | undefined;
      training: () => TrainingStatus;
    };
  }
}
window.spineWeb = {
  state: () => document.body.dataset.state,
  results: () => results.map((r) => ({ ...r })),
  csv: () => (classifier ? resultsCsv(results, classifier.spec.verdict) : ''),
  timings,
  model: () => classifier?.spec.label,
  training: () => trainPanel.status,
};

async function start(): Promise<void> {
  wireEvents();
  if (!('gpu' in navigator)) {
    view.setState('no-webgpu', 'WebGPU is not available.');
    view.showAlert(window.isSecureContext ? NO_WEBGPU : notSecureContext(location.origin));
    return;
  }
  try {
    await T.ready();
  } catch (e) {
    view.setState('no-webgpu', 'No graphics adapter.');
    view.showAlert(noAdapter(firstLine(e)));
    return;
  }
  timings.deviceReadyMs = performance.now();
  void trainPanel.enable();
  const info = T.deviceInfo();
  view.setDevice(
    `WebGPU adapter: ${[info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unnamed'} (${info.kernels} kernels)`,
  );
  const url = new URLSearchParams(location.search).get('model') ?? 'model.safetensors';
  let response: Response | undefined;
  try {
    response = await fetch(url);
  } catch {
    response = undefined;
  }
  if (!response?.ok) {
    view.setState('no-model', 'Load a model to start.');
    view.modelInfo.textContent = `No model was found next to this page (${url}${response ? `: HTTP ${response.status}` : ''}). Load a model file.`;
    return;
  }
  await loadModel([{ name: url.split('/').pop() || url, bytes: new Uint8Array(await response.arrayBuffer()) }]);
}

async function loadModel(files: NamedBytes[]): Promise<void> {
  view.showAlert(null);
  try {
    useModel(readModelFiles(files));
  } catch (e) {
    view.showAlert(modelProblem(e));
    view.setState(
      classifier ? 'ready' : 'no-model',
      classifier ? 'The previous model is still loaded.' : 'Load a model to start.',
    );
  }
}

/** The classifier runs `webModel` from now on (a loaded file, or a model trained on this page). */
function useModel(webModel: WebModel): void {
  view.setState('busy', 'Loading the model…');
  try {
    const next = Classifier.create(webModel);
    classifier?.dispose();
    classifier = next;
    const t = next.spec.transform;
    const arch = next.spec.model.kind === 'densenet' ? next.spec.model.arch : 'sequential CNN';
    view.modelInfo.textContent = `${next.spec.label}: ${arch}, ${t.width}x${t.height} input (${t.resize}).`;
    timings.modelReadyMs = performance.now();
    view.setState('ready', 'Ready: drop films or choose them.');
  } catch (e) {
    view.setState(classifier ? 'ready' : 'no-model', '');
    throw e;
  }
}

async function classifyFilms(list: FilmFile[]): Promise<void> {
  if (list.length === 0)
    return void view.showAlert('No PNG, JPEG, TIFF or DICOM files were found in what was dropped or chosen.');
  if (!classifier || busy)
    return void view.showAlert(
      classifier ? 'Still working on the previous films; wait for them to finish.' : NO_MODEL_YET,
    );
  const model = classifier;
  busy = true;
  films = list;
  results = list.map((f) => ({ file: f.name }));
  cams = list.map(() => undefined);
  view.showAlert(null);
  view.hideFilm();
  view.startTable(
    list.map((f) => f.name),
    (i) => void showFilm(i),
  );
  view.setState('busy', `Classifying ${list.length} film${list.length === 1 ? '' : 's'}…`);
  let shown = false;
  try {
    for (let start = 0; start < list.length; start += BATCH) {
      const chunk = list.slice(start, start + BATCH);
      const began = performance.now();
      const decoded: { index: number; image: Image }[] = [];
      for (let k = 0; k < chunk.length; k++) {
        try {
          decoded.push({
            index: start + k,
            image: decodeImage(new Uint8Array(await chunk[k]!.file.arrayBuffer()), chunk[k]!.name),
          });
        } catch (e) {
          results[start + k]!.error = filmProblem(e);
        }
      }
      if (decoded.length > 0) {
        try {
          const out = await model.classify(decoded.map((d) => d.image));
          out.forEach((cam, k) => {
            results[decoded[k]!.index]!.probMale = cam.probMale;
            cams[decoded[k]!.index] = cam;
          });
          const each = (performance.now() - began) / decoded.length;
          for (let k = 0; k < decoded.length; k++) timings.perFilmMs.push(each);
        } catch (e) {
          for (const d of decoded) results[d.index]!.error = filmProblem(e);
        }
      }
      for (let k = 0; k < chunk.length; k++) view.fillRow(start + k, results[start + k]!, model.spec.verdict);
      view.setProgress(Math.min(list.length, start + chunk.length), list.length);
      const first = decoded.find((d) => cams[d.index]);
      if (!shown && first) {
        shown = true;
        render(first.index, first.image);
      }
    }
  } finally {
    busy = false;
  }
  const failed = results.flatMap((r) => (r.error !== undefined ? [{ name: r.file, error: r.error }] : []));
  if (failed.length > 0) view.showAlert(filmAlert(failed, list.length));
  view.downloadCsv.disabled = false;
  view.setState(
    'ready',
    `Done: ${list.length - failed.length} of ${list.length} film${list.length === 1 ? '' : 's'} classified.`,
  );
}

async function showFilm(i: number): Promise<void> {
  const film = films[i];
  if (!film || !cams[i]) return;
  render(i, decodeImage(new Uint8Array(await film.file.arrayBuffer()), film.name));
}

function render(i: number, image: Image): void {
  const cam = cams[i]!;
  view.showFilm(
    films[i]!.name,
    classifier!.pictures(image, cam, DISPLAY_SIDE),
    { probMale: cam.probMale },
    cam.layer,
    classifier!.spec.verdict,
  );
  view.markCurrent(i);
}

function downloadCsv(): void {
  const blob = new Blob([window.spineWeb.csv()], { type: 'text/csv' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = 'predictions.csv';
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

function wireEvents(): void {
  const zone = view.dropZone;
  const enabled = () => zone.getAttribute('aria-disabled') !== 'true';
  zone.addEventListener('click', () => enabled() && view.filmInput.click());
  zone.addEventListener('keydown', (e) => {
    if ((e.key === 'Enter' || e.key === ' ') && enabled()) {
      e.preventDefault();
      view.filmInput.click();
    }
  });
  // Dropping anywhere on the page counts: a near miss must not make the browser open the film.
  document.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  document.addEventListener('dragleave', () => zone.classList.remove('over'));
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    if (!e.dataTransfer) return;
    if (enabled()) void filmsFromDrop(e.dataTransfer).then(classifyFilms);
    else if (document.body.dataset.state === 'no-model') view.showAlert(NO_MODEL_YET);
  });
  view.filmInput.addEventListener('change', () => {
    if (view.filmInput.files) void classifyFilms(filmsFromInput(view.filmInput.files, false));
    view.filmInput.value = '';
  });
  view.folderInput.addEventListener('change', () => {
    if (view.folderInput.files) void classifyFilms(filmsFromInput(view.folderInput.files, true));
    view.folderInput.value = '';
  });
  view.modelInput.addEventListener('change', () => {
    const list = [...(view.modelInput.files ?? [])];
    view.modelInput.value = '';
    if (list.length > 0)
      void Promise.all(list.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) }))).then(
        loadModel,
      );
  });
  view.downloadCsv.addEventListener('click', downloadCsv);
}

start().catch((e: unknown) => {
  view.setState(classifier ? 'ready' : 'no-model', 'Something went wrong.');
  view.showAlert(`The page stopped with an unexpected error: ${firstLine(e)}`);
});
