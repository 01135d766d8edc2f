/**
 * The page's elements and how results are shown: status line, alert, the model line, the result
 * panel (film, Grad-CAM layer with its opacity, prediction, probability, uncertainty) and the
 * table of all films. No model or GPU code here.
 */
import type { Image } from '@spine/imaging';
import { drawImage } from './canvas.js';
import { callFor, type Verdict } from '@spine/models/browser';
import type { FilmResult } from './results-csv.js';

function byId<E extends HTMLElement>(id: string): E {
  const e = document.getElementById(id);
  if (!e) throw new Error(`index.html has no #${id}`);
  return e as E;
}

export type PageState = 'starting' | 'no-webgpu' | 'no-model' | 'ready' | 'busy';

export class View {
  readonly status = byId('status');
  readonly alert = byId('alert');
  readonly modelInfo = byId('model-info');
  readonly modelInput = byId<HTMLInputElement>('model-input');
  readonly dropZone = byId('drop-zone');
  readonly filmInput = byId<HTMLInputElement>('film-input');
  readonly folderInput = byId<HTMLInputElement>('folder-input');
  readonly opacity = byId<HTMLInputElement>('opacity');
  readonly downloadCsv = byId<HTMLButtonElement>('download-csv');
  private readonly result = byId('result');
  private readonly filmCanvas = byId<HTMLCanvasElement>('film-canvas');
  private readonly camCanvas = byId<HTMLCanvasElement>('cam-canvas');
  private readonly batch = byId('batch');
  private readonly tbody = byId('batch-table').querySelector('tbody')!;
  private readonly progress = byId<HTMLProgressElement>('batch-progress');

  constructor() {
    this.opacity.addEventListener('input', () => this.applyOpacity());
    this.applyOpacity();
  }

  setState(state: PageState, message: string): void {
    document.body.dataset.state = state;
    this.status.textContent = message;
    const enabled = state === 'ready' || state === 'busy';
    this.dropZone.setAttribute('aria-disabled', String(!enabled));
    for (const input of [this.filmInput, this.folderInput]) input.disabled = !enabled;
    this.modelInput.disabled = state === 'no-webgpu' || state === 'busy' || state === 'starting';
  }

  showAlert(text: string | null): void {
    this.alert.hidden = text === null;
    this.alert.textContent = text ?? '';
  }

  setDevice(text: string): void {
    byId('device-info').textContent = text;
  }

  /** The film and its map at full opacity; the slider sets the map layer's opacity. */
  showFilm(
    name: string,
    pictures: { film: Image; heat: Image },
    result: Required<Pick<FilmResult, 'probMale'>>,
    layer: string,
    verdict: Verdict,
  ): void {
    drawImage(this.filmCanvas, pictures.film);
    drawImage(this.camCanvas, pictures.heat);
    this.filmCanvas.setAttribute('aria-label', `${name} as the network saw it, with its Grad-CAM map`);
    const call = callFor(result.probMale, verdict);
    byId('result-file').textContent = name;
    byId('prediction').textContent = call.sex === 'M' ? 'Male' : 'Female';
    byId('probability').textContent = `${(100 * call.confidence).toFixed(1)}% ${call.sex === 'M' ? 'male' : 'female'}`;
    byId('prob-male').textContent = result.probMale.toFixed(4);
    const u = byId('uncertain');
    u.textContent = call.uncertain
      ? `Uncertain: neither sex reaches ${Math.round(100 * verdict.uncertainBelow)}%`
      : `Confident (at least ${Math.round(100 * verdict.uncertainBelow)}%)`;
    u.className = call.uncertain ? 'uncertain' : '';
    byId('cam-layer').textContent = layer;
    this.result.hidden = false;
  }

  hideFilm(): void {
    this.result.hidden = true;
  }

  private applyOpacity(): void {
    const v = Number(this.opacity.value);
    this.camCanvas.style.opacity = String(v / 100);
    byId('opacity-value').textContent = `${v}%`;
  }

  /** Starts a new table with one pending row per film; `onShow(i)` shows film i. */
  startTable(names: readonly string[], onShow: (i: number) => void): void {
    this.tbody.replaceChildren(
      ...names.map((name, i) => {
        const tr = document.createElement('tr');
        const cells = [name, '…', '', '', ''].map((text) => {
          const td = document.createElement('td');
          td.textContent = text;
          return td;
        });
        cells[2]!.className = 'num';
        cells[4]!.className = 'problem';
        const show = document.createElement('button');
        show.type = 'button';
        show.textContent = 'Show';
        show.disabled = true;
        show.setAttribute('aria-label', `Show ${name}`);
        show.addEventListener('click', () => onShow(i));
        const last = document.createElement('td');
        last.append(show);
        tr.append(...cells, last);
        return tr;
      }),
    );
    this.progress.max = Math.max(1, names.length);
    this.progress.value = 0;
    byId('batch-count').textContent = `0 of ${names.length} films`;
    this.downloadCsv.disabled = true;
    this.batch.hidden = false;
  }

  fillRow(i: number, r: FilmResult, verdict: Verdict): void {
    const tr = this.tbody.rows[i]!;
    const [, prediction, prob, uncertain, problem, show] = [...tr.cells];
    if (r.probMale === undefined) {
      prediction!.textContent = '—';
      problem!.textContent = r.error ?? 'unreadable';
      return;
    }
    const call = callFor(r.probMale, verdict);
    prediction!.textContent = call.sex === 'M' ? 'Male' : 'Female';
    prob!.textContent = r.probMale.toFixed(4);
    uncertain!.textContent = call.uncertain ? 'yes' : 'no';
    if (call.uncertain) uncertain!.className = 'uncertain';
    show!.querySelector('button')!.disabled = false;
  }

  markCurrent(i: number): void {
    [...this.tbody.rows].forEach((tr, k) => tr.classList.toggle('current', k === i));
  }

  setProgress(done: number, total: number): void {
    this.progress.value = done;
    byId('batch-count').textContent = `${done} of ${total} films`;
  }
}
