// Graceful stop: while training, SIGINT (Ctrl-C) and SIGTERM only *request* a stop; the trainer
// finishes the step it is in, writes the `last` checkpoint and returns. A second signal means
// "now": our listener is removed and the signal re-raised, so the default action (exit) happens.
// Listeners exist only while train() runs, so a library user's process keeps its own handling.

export type StopSignal = 'SIGINT' | 'SIGTERM';

export class StopRequest {
  private reason: string | undefined;
  private readonly listeners = new Map<StopSignal, () => void>();
  private readonly onAbort = () => this.request('aborted');

  constructor(
    signals: readonly StopSignal[],
    private readonly abort: AbortSignal | undefined,
    private readonly notify: (reason: string) => void,
  ) {
    for (const sig of signals) {
      const listener = () => {
        if (this.reason !== undefined) {
          this.dispose();
          process.kill(process.pid, sig);
          return;
        }
        this.request(sig);
      };
      this.listeners.set(sig, listener);
      process.on(sig, listener);
    }
    if (abort?.aborted) this.request('aborted');
    abort?.addEventListener('abort', this.onAbort, { once: true });
  }

  private request(reason: string): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.notify(reason);
  }

  /** Why a stop was requested ('SIGINT', 'SIGTERM', 'aborted'), or undefined. */
  get requested(): string | undefined {
    return this.reason;
  }

  dispose(): void {
    for (const [sig, l] of this.listeners) process.off(sig, l);
    this.listeners.clear();
    this.abort?.removeEventListener('abort', this.onAbort);
  }
}
