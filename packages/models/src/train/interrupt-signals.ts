// Node's stop source: SIGINT (Ctrl-C) and SIGTERM request a graceful stop. A second signal means
// "now": our listeners are removed and the signal re-raised, so the default action (exit)
// happens. Listeners exist only while train() runs, so a library user's process keeps its own
// handling.
import type { StopSource } from './interrupt.js';

export type StopSignal = 'SIGINT' | 'SIGTERM';

export function signalStopSource(signals: readonly StopSignal[]): StopSource {
  return (request) => {
    const listeners = new Map<StopSignal, () => void>();
    const detach = () => {
      for (const [sig, l] of listeners) process.off(sig, l);
      listeners.clear();
    };
    for (const sig of signals) {
      const listener = () => {
        if (request(sig)) return;
        detach();
        process.kill(process.pid, sig);
      };
      listeners.set(sig, listener);
      process.on(sig, listener);
    }
    return detach;
  };
}
