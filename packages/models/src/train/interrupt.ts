// Graceful stop: while training, a stop is only *requested*; the trainer finishes the step it is
// in, writes the `last` checkpoint and returns. Requests come from an AbortSignal (a page's Stop
// button, a library caller) and from stop sources such as Node's SIGINT/SIGTERM
// (interrupt-signals.ts). Sources are attached only while train() runs.

/**
 * Attaches a source of stop requests; returns its detach. `request(reason)` is false when a stop
 * was already requested (a second Ctrl-C means "now").
 */
export type StopSource = (request: (reason: string) => boolean) => () => void;

export class StopRequest {
  private reason: string | undefined;
  private readonly detach: (() => void)[];
  private readonly onAbort = () => this.request('aborted');

  constructor(
    sources: readonly StopSource[],
    private readonly abort: AbortSignal | undefined,
    private readonly notify: (reason: string) => void,
  ) {
    this.detach = sources.map((source) => source((reason) => this.request(reason)));
    if (abort?.aborted) this.request('aborted');
    abort?.addEventListener('abort', this.onAbort, { once: true });
  }

  private request(reason: string): boolean {
    if (this.reason !== undefined) return false;
    this.reason = reason;
    this.notify(reason);
    return true;
  }

  /** Why a stop was requested ('SIGINT', 'SIGTERM', 'aborted'), or undefined. */
  get requested(): string | undefined {
    return this.reason;
  }

  dispose(): void {
    for (const d of this.detach.splice(0)) d();
    this.abort?.removeEventListener('abort', this.onAbort);
  }
}
