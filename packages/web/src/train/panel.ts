/**
 * The page's Train part: choose a folder (and optionally a labels CSV), see it checked, pick the
 * preset's input size and epochs, train with live curves, a progress bar with ETA, pause/resume
 * and a stop that keeps the best checkpoint; then the test confusion matrix, accuracy with its CI
 * and AUC as spine-cli prints them, the run as a zip, and the classifier switched to the new model.
 * A run saved in the browser's storage is offered for resuming after a reload.
 * `document.body.dataset.train` holds the state for tests: idle, checking, ready, training,
 * paused, evaluating, done, failed.
 */
import {
  formatEvaluation,
  isDatasetError,
  isTrainingError,
  quickTrainingSettings,
  type EpochMetrics,
  type TrainingSettings,
} from '@spine/models/browser';
import type { WebModel } from '../model-file.js';
import { firstLine } from '../messages.js';
import { drawCurves } from './curves.js';
import { chosenFolder, loadFolderDataset, type ChosenFolder, type PageDataset } from './dataset.js';
import { filmsProblem } from './memory-check.js';
import { runZip } from './run-zip.js';
import { CONFIG_FILE, SessionError, TrainingSession, type SessionResult } from './session.js';
import { clearRun, loadRun, type SavedRun } from './storage.js';

function byId<E extends HTMLElement>(id: string): E {
  const e = document.getElementById(id);
  if (!e) throw new Error(`index.html has no #${id}`);
  return e as E;
}

export type TrainState = 'idle' | 'checking' | 'ready' | 'training' | 'paused' | 'evaluating' | 'done' | 'failed';

/** What tests and measurements read (window.spineWeb.training()). */
export interface TrainingStatus {
  state: TrainState;
  history: EpochMetrics[];
  test: { accuracy: number; accuracyCI95: [number, number] | null; rocAuc: number | null; n: number } | null;
  message: string;
}

export class TrainPanel {
  private readonly folderInput = byId<HTMLInputElement>('train-folder');
  private readonly labelsInput = byId<HTMLInputElement>('train-labels');
  private readonly start = byId<HTMLButtonElement>('train-start');
  private readonly pause = byId<HTMLButtonElement>('train-pause');
  private readonly stop = byId<HTMLButtonElement>('train-stop');
  private readonly download = byId<HTMLButtonElement>('train-download');
  private readonly size = byId<HTMLInputElement>('train-size');
  private readonly epochs = byId<HTMLInputElement>('train-epochs');
  private readonly seed = byId<HTMLInputElement>('train-seed');
  private readonly info = byId('train-data');
  private readonly progress = byId<HTMLProgressElement>('train-progress');
  private readonly eta = byId('train-eta');
  private readonly report = byId('train-report');
  private folder: ChosenFolder | undefined;
  private labels: File | undefined;
  private data: PageDataset | undefined;
  private session: TrainingSession | undefined;
  private saved: SavedRun | undefined;
  private history: EpochMetrics[] = [];
  private result: SessionResult | undefined;
  /** What the chosen folder holds, as the page last described it. */
  private dataText = '';

  constructor(
    private readonly useModel: (model: WebModel) => void,
    private readonly alert: (text: string | null) => void,
  ) {
    this.setState('idle', '');
    this.folderInput.addEventListener('change', () => {
      const files = [...(this.folderInput.files ?? [])];
      this.folderInput.value = '';
      if (files.length > 0) {
        this.folder = chosenFolder(files);
        void this.check();
      }
    });
    this.labelsInput.addEventListener('change', () => {
      this.labels = this.labelsInput.files?.[0];
      this.labelsInput.value = '';
      if (this.folder) void this.check();
      else this.info.textContent = `Labels: ${this.labels?.name ?? 'none'}. Now choose the folder of films.`;
    });
    this.size.addEventListener('change', () => this.folder && void this.check());
    this.start.addEventListener('click', () => void this.train());
    this.pause.addEventListener('click', () => this.togglePause());
    this.stop.addEventListener('click', () => {
      this.stop.disabled = true;
      this.pause.disabled = true;
      this.eta.textContent = 'Stopping after this batch; the best checkpoint is kept…';
      this.session?.stop();
    });
    this.download.addEventListener('click', () => this.downloadRun());
    byId('train-discard').addEventListener('click', () => {
      void clearRun();
      this.saved = undefined;
      byId('train-saved').hidden = true;
      this.start.textContent = 'Train';
    });
  }

  get status(): TrainingStatus {
    const r = this.result?.test?.report;
    return {
      state: (document.body.dataset.train ?? 'idle') as TrainState,
      history: [...this.history],
      test: r ? { accuracy: r.accuracy, accuracyCI95: r.accuracyCI95, rocAuc: r.rocAuc, n: r.n } : null,
      message: this.eta.textContent ?? '',
    };
  }

  /** Called once WebGPU is ready: the controls work, and a run saved in this browser is offered. */
  async enable(): Promise<void> {
    this.folderInput.disabled = false;
    this.labelsInput.disabled = false;
    try {
      this.saved = await loadRun();
    } catch (e) {
      this.info.textContent = `This browser's storage cannot be read (${firstLine(e)}), so an interrupted run cannot be resumed here.`;
    }
    if (this.saved) {
      // The saved run's settings: its films must be prepared at its input size to resume.
      const saved = savedSettings(this.saved);
      if (saved) {
        this.size.value = String(saved.model.inputSize);
        this.epochs.value = String(saved.epochs);
        this.seed.value = String(saved.seed);
      }
      const last = this.saved.files.get('checkpoints/last.json');
      const epoch = last ? (JSON.parse(new TextDecoder().decode(last)) as { epoch: number }).epoch : 0;
      byId('train-saved-text').textContent =
        `A run on the folder ${this.saved.folder} is saved in this browser (${epoch} epoch${epoch === 1 ? '' : 's'} done). Choose that folder again to resume it from its last checkpoint.`;
      byId('train-saved').hidden = false;
    }
  }

  private setState(state: TrainState, eta: string): void {
    document.body.dataset.train = state;
    this.eta.textContent = eta;
    const running = state === 'training' || state === 'paused' || state === 'evaluating';
    this.start.disabled = !(state === 'ready' || state === 'done' || state === 'failed') || !this.data;
    this.pause.disabled = !(state === 'training' || state === 'paused');
    this.pause.textContent = state === 'paused' ? 'Resume' : 'Pause';
    this.stop.disabled = !(state === 'training' || state === 'paused');
    for (const input of [this.folderInput, this.labelsInput, this.size, this.epochs, this.seed])
      input.disabled = running;
    this.download.disabled = running || !this.session;
  }

  private settings(): TrainingSettings {
    const s = quickTrainingSettings();
    const int = (input: HTMLInputElement, lo: number, hi: number, fallback: number) => {
      const v = Number(input.value);
      return Number.isInteger(v) && v >= lo && v <= hi ? v : fallback;
    };
    s.model = { ...s.model, inputSize: int(this.size, 32, 512, s.model.inputSize) };
    s.epochs = int(this.epochs, 1, 1000, s.epochs);
    s.seed = int(this.seed, 0, 0xffffffff, s.seed);
    return s;
  }

  /** Validates the chosen folder and decodes its films. */
  private async check(): Promise<void> {
    const folder = this.folder!;
    const size = this.settings().model.inputSize;
    this.data = undefined;
    this.alert(null);
    this.setState('checking', '');
    this.info.textContent = `Checking ${folder.name}…`;
    const images = folder.files.length;
    const tooMany = filmsProblem(images, size);
    if (tooMany) {
      this.fail(`${folder.name}: ${tooMany}`);
      return;
    }
    try {
      const transform = { width: size, height: size, resize: 'stretch' as const };
      this.data = await loadFolderDataset(folder, this.labels, transform, (done, total) => {
        this.progress.max = total;
        this.progress.value = done;
        this.info.textContent = `Checking ${folder.name}: ${done} of ${total} films read…`;
      });
    } catch (e) {
      this.fail(isDatasetError(e) ? datasetMessage(e) : `${folder.name} could not be read: ${firstLine(e)}`);
      return;
    }
    const records = this.data.dataset.records;
    const male = records.filter((r) => r.label === 1).length;
    const resumable = this.saved !== undefined && this.saved.folder === folder.name;
    this.dataText = `${folder.name}: ${records.length} films (${records.length - male} female, ${male} male), labels from ${this.data.dataset.source}${this.data.dataset.skipped.length ? `; ${this.data.dataset.skipped.length} other files skipped` : ''}. Kept in memory at ${size} px.`;
    this.info.textContent = this.dataText;
    this.start.textContent = resumable ? 'Resume training' : 'Train';
    this.setState('ready', '');
  }

  private fail(message: string): void {
    this.alert(message);
    this.setState('failed', '');
    this.start.disabled = !this.data;
  }

  private togglePause(): void {
    const s = this.session;
    if (!s) return;
    if (s.isPaused) {
      s.resume();
      this.setState('training', 'Resumed.');
    } else {
      s.pause();
      this.setState('paused', 'Paused after this batch. Resume continues exactly where it stopped.');
    }
  }

  private async train(): Promise<void> {
    const data = this.data;
    if (!data) return;
    const settings = this.settings();
    const resume = this.saved !== undefined && this.saved.folder === data.folder ? this.saved : undefined;
    const savedSize = resume && savedSettings(resume)?.model.inputSize;
    if (savedSize && savedSize !== settings.model.inputSize) {
      this.fail(
        `The saved run trains at ${savedSize} px: set the input size to ${savedSize} to resume it, or discard the saved run.`,
      );
      return;
    }
    this.alert(null);
    this.report.hidden = true;
    this.result = undefined;
    this.history = [];
    try {
      this.session = await TrainingSession.create(data, settings, this.labels?.name ?? null, resume);
    } catch (e) {
      this.fail(
        isDatasetError(e)
          ? `The saved run does not match ${data.folder}: ${datasetMessage(e)}\nDiscard the saved run to train anew.`
          : `Training cannot start: ${firstLine(e)}`,
      );
      return;
    }
    this.saved = undefined;
    byId('train-saved').hidden = true;
    this.start.textContent = 'Train';
    this.history = await this.session.history();
    const started = performance.now();
    this.setState('training', resume ? 'Resuming from the last checkpoint…' : 'Starting…');
    const redraw = () => {
      drawCurves(byId<HTMLCanvasElement>('train-loss'), this.history, settings.epochs, 'loss');
      drawCurves(byId<HTMLCanvasElement>('train-accuracy'), this.history, settings.epochs, 'accuracy');
    };
    redraw();
    let loss: number | undefined;
    try {
      const result = await this.session.train({
        onEpochStart: () => undefined,
        onBatch: (p, done, total, eta) => {
          if (p.loss !== undefined) loss = p.loss;
          this.progress.max = total;
          this.progress.value = done;
          if (document.body.dataset.train === 'training')
            this.eta.textContent = `Epoch ${p.epoch} of ${p.epochs}, batch ${p.batch} of ${p.batches}${loss === undefined ? '' : `, loss ${loss.toFixed(3)}`}, ${p.imagesPerSecond.toFixed(1)} films/s, about ${duration(eta)} left`;
        },
        onEpochEnd: (m) => {
          this.history.push(m);
          redraw();
          const notKept = this.session?.notKept;
          this.info.textContent = `${this.dataText} ${
            notKept
              ? `This browser did not keep the run's checkpoint (${notKept}): if the page is closed or reloaded, training cannot resume and starts again. Download the run to keep it.`
              : `The checkpoint of epoch ${m.epoch} is kept in this browser: a reload can resume from it.`
          }`;
        },
        onEvaluating: () => this.setState('evaluating', 'Evaluating the best checkpoint on the test films…'),
      });
      this.history = result.train.history;
      redraw();
      this.result = result;
      this.showResult(result, (performance.now() - started) / 1000);
      this.useModel(result.model);
      this.setState(
        'done',
        `${result.train.status === 'completed' ? 'Trained' : 'Stopped after'} ${result.train.epochsCompleted} epochs; the classifier now uses the ${result.checkpoint} checkpoint (epoch ${result.epoch}).`,
      );
    } catch (e) {
      this.fail(trainingMessage(e));
    }
  }

  private showResult(result: SessionResult, seconds: number): void {
    const lines = [`Run ${this.session!.run}: ${duration(seconds)}.`];
    if (result.train.best)
      lines.push(`Best validation accuracy ${result.train.best.value.toFixed(3)} at epoch ${result.train.best.epoch}.`);
    lines.push(
      result.test
        ? `\nTest set (${result.test.report.n} films, ${result.checkpoint} checkpoint):\n${formatEvaluation(result.test.report)}`
        : '\nThe split has no test films.',
    );
    this.report.textContent = lines.join('\n');
    this.report.hidden = false;
  }

  private downloadRun(): void {
    const session = this.session;
    if (!session) return;
    const blob = new Blob([runZip(session.run, session.store.files) as Uint8Array<ArrayBuffer>], {
      type: 'application/zip',
    });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${session.run}.zip`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }
}

/** spine-cli's message for a dataset: the summary and every problem (up to its limit), one per line. */
function datasetMessage(e: Error): string {
  return e.message;
}

function trainingMessage(e: unknown): string {
  if (e instanceof SessionError) return `Training cannot run: ${e.message}`;
  if (isTrainingError(e)) return `Training stopped: ${e.message}`;
  if (isDatasetError(e)) return datasetMessage(e);
  const text = firstLine(e);
  if (/out of memory|OutOfMemory|allocation/i.test(text))
    return `The graphics adapter ran out of memory while training (${text}). Choose a smaller input size, or close other tabs that use the GPU.`;
  return `Training stopped with an unexpected error: ${text}`;
}

/** The training settings in a saved run's config.json, or undefined when it cannot be read. */
function savedSettings(run: SavedRun): TrainingSettings | undefined {
  const bytes = run.files.get(CONFIG_FILE);
  try {
    return bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as { config: TrainingSettings }).config : undefined;
  } catch {
    return undefined;
  }
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '…';
  const s = Math.round(seconds);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}
