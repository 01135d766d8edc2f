/**
 * Progress for long work. On a terminal: one bar redrawn in place with items, rate and ETA.
 * Elsewhere (logs, pipes, CI): plain lines, at most one every `plainEverySeconds` plus the last,
 * so a log stays readable. Writes to stderr by default, so stdout stays clean for results.
 */
export interface ProgressOptions {
  /** What is counted, e.g. 'films'. */
  unit: string;
  label?: string;
  stream?: NodeJS.WriteStream;
  /** Override terminal detection (tests). */
  tty?: boolean;
  plainEverySeconds?: number;
  now?: () => number;
}

export class Progress {
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly start: number;
  private readonly now: () => number;
  private lastPlain = -Infinity;
  private lastDraw = -Infinity;
  private done = 0;
  private detail = '';

  constructor(
    readonly total: number,
    private readonly options: ProgressOptions,
  ) {
    this.stream = options.stream ?? process.stderr;
    this.tty = options.tty ?? this.stream.isTTY === true;
    this.now = options.now ?? (() => performance.now() / 1000);
    this.start = this.now();
  }

  /** Sets the number of finished items (monotonic) and redraws when due; `detail` (e.g. 'loss 0.42') is shown after the counts. */
  update(done: number, detail?: string): void {
    this.done = done;
    if (detail !== undefined) this.detail = detail;
    const t = this.now();
    const last = done >= this.total;
    if (this.tty) {
      // Redraw at most ~20 times a second; a redraw per item would cost more than fast items.
      if (!last && t - this.lastDraw < 0.05) return;
      this.lastDraw = t;
      this.stream.write(`\r${this.barLine(t)}\x1b[K`);
    } else if (last || t - this.lastPlain >= (this.options.plainEverySeconds ?? 5)) {
      this.lastPlain = t;
      this.stream.write(`${this.plainLine(t)}\n`);
    }
  }

  /** Ends the bar's line on a terminal; the caller prints its summary after. */
  finish(): void {
    if (this.tty && this.lastDraw > -Infinity) this.stream.write('\n');
  }

  elapsedSeconds(): number {
    return this.now() - this.start;
  }

  private stats(t: number): { rate: number; eta: number } {
    const elapsed = Math.max(t - this.start, 1e-9);
    const rate = this.done / elapsed;
    return { rate, eta: rate > 0 ? (this.total - this.done) / rate : Infinity };
  }

  private barLine(t: number): string {
    const { rate, eta } = this.stats(t);
    const width = 24;
    const filled = Math.round((width * this.done) / Math.max(this.total, 1));
    const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
    const label = this.options.label ? `${this.options.label} ` : '';
    const detail = this.detail ? `  ${this.detail}` : '';
    return `${label}[${bar}] ${this.done}/${this.total} ${this.options.unit}${detail}  ${formatRate(rate)}/s  ETA ${formatDuration(eta)}`;
  }

  private plainLine(t: number): string {
    const { rate, eta } = this.stats(t);
    const label = this.options.label ? `${this.options.label}: ` : '';
    const tail = this.done >= this.total ? `in ${formatDuration(t - this.start)}` : `ETA ${formatDuration(eta)}`;
    const detail = this.detail ? `, ${this.detail}` : '';
    return `${label}${this.done}/${this.total} ${this.options.unit}${detail}, ${formatRate(rate)}/s, ${tail}`;
  }
}

function formatRate(r: number): string {
  // Thresholds at the rounding points, so 9.999 reads 10.0, not 10.00.
  return r >= 99.95 ? r.toFixed(0) : r >= 9.995 ? r.toFixed(1) : r.toFixed(2);
}

/** 42s, 3m05s, 1h02m. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
