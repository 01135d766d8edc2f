// The Node kernel warmer: one child process (kernel-warmer-child.js) that compiles the kernels it
// is sent on its own Dawn device, in order, and answers when each is in Mesa's shader cache.
//
// A child process rather than a second device here: llvmpipe compiles one shader at a time per
// process, so a minutes-long compile on a helper device would stall every new kernel of the main
// one, and Dawn waits for it before the process can exit. The child is detached and unreferenced:
// this process exits when its own work is done, and the child finishes the compiles it was sent
// (they land in the cache for the next run) and then exits, when its stdin closes.
import type { DeviceOptions } from './device.js';
import type { KernelWarmer, WarmJob } from './kernel-warmer.js';

// The build has no Node types (the core must not use Node); these are the parts used here.
interface Stream {
  write(s: string): boolean;
  on(event: string, cb: (arg: never) => void): void;
  ref(): void;
  unref(): void;
  setEncoding?(enc: string): void;
}
interface Child {
  stdin: Stream;
  stdout: Stream;
  unref(): void;
  on(event: string, cb: (arg: never) => void): void;
}
interface NodeProcess {
  execPath: string;
  env: Record<string, string | undefined>;
  getBuiltinModule?(id: string): unknown;
}
declare const process: NodeProcess;

interface Pending {
  resolve: () => void;
  reject: (e: Error) => void;
  promise: Promise<void>;
  holds: number;
  settled: boolean;
}

/** Why warming is off here, or null when a warmer can run. */
export function warmerUnavailable(): string | null {
  const env = process.env;
  if (env.SPINE_TENSOR_WARMER === '0') return 'SPINE_TENSOR_WARMER=0';
  if (/^(1|true|yes)$/i.test(env.MESA_SHADER_CACHE_DISABLE ?? '') || env.MESA_SHADER_CACHE_MAX_SIZE === '0')
    return "Mesa's shader cache is disabled";
  if (typeof process.getBuiltinModule !== 'function') return 'needs Node >= 20.16 (process.getBuiltinModule)';
  return null;
}

export class NodeKernelWarmer implements KernelWarmer {
  /** `script`: the child's entry (default: kernel-warmer-child.js beside this file in dist/). */
  constructor(private readonly script?: string) {}

  private child: Child | null = null;
  private readonly jobs = new Map<string, Pending>();
  private nextId = 0;
  private readonly ids = new Map<number, string>();
  private held = 0;
  private buffered = '';

  warm(job: WarmJob, device: DeviceOptions, hold: boolean): Promise<void> {
    const key = JSON.stringify([job, device]);
    let p = this.jobs.get(key);
    if (!p) {
      let resolve!: () => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      p = { resolve, reject, promise, holds: 0, settled: false };
      this.jobs.set(key, p);
      const id = this.nextId++;
      this.ids.set(id, key);
      try {
        this.spawn().stdin.write(`${JSON.stringify({ id, job, device })}\n`);
      } catch (err) {
        this.settle(id, err instanceof Error ? err.message : String(err));
      }
    }
    if (hold && !p.settled) {
      p.holds++;
      this.setHeld(+1);
    }
    return p.promise;
  }

  private spawn(): Child {
    if (this.child) return this.child;
    const cp = process.getBuiltinModule!('node:child_process') as {
      spawn(cmd: string, args: string[], o: object): Child;
    };
    const { fileURLToPath } = process.getBuiltinModule!('node:url') as { fileURLToPath(u: string): string };
    const { dirname, join } = process.getBuiltinModule!('node:path') as {
      dirname(p: string): string;
      join(...p: string[]): string;
    };
    const script =
      this.script ??
      join(dirname(fileURLToPath((import.meta as unknown as { url: string }).url)), 'kernel-warmer-child.js');
    const child = cp.spawn(process.execPath, [script], {
      stdio: ['pipe', 'pipe', 'ignore'],
      detached: true,
      env: { ...process.env, SPINE_TENSOR_WARMER: '0' },
    });
    child.stdout.setEncoding?.('utf8');
    child.stdout.on('data', (s: never) => this.onData(s as string));
    const fail = (why: string) => {
      this.child = null;
      for (const id of [...this.ids.keys()]) this.settle(id, why);
    };
    child.on('error', (e: never) => fail(`kernel warmer: ${(e as Error).message}`));
    child.on('exit', (code: never) => fail(`kernel warmer exited (${String(code)}) before finishing`));
    child.stdin.on('error', () => undefined);
    child.unref();
    child.stdin.unref();
    child.stdout.unref();
    this.child = child;
    return child;
  }

  private onData(s: string): void {
    this.buffered += s;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      try {
        const msg = JSON.parse(line) as { id: number; error?: string };
        this.settle(msg.id, msg.error ?? null);
      } catch {
        /* not ours (a stray log line) */
      }
    }
  }

  private settle(id: number, error: string | null): void {
    const key = this.ids.get(id);
    if (key === undefined) return;
    this.ids.delete(id);
    const p = this.jobs.get(key)!;
    this.setHeld(-p.holds);
    p.holds = 0;
    p.settled = true;
    if (error === null) p.resolve();
    else {
      this.jobs.delete(key); // a later request may try again
      p.reject(new Error(error));
    }
  }

  /** Keep the process alive while someone waits explicitly; otherwise let it exit. */
  private setHeld(delta: number): void {
    const before = this.held;
    this.held += delta;
    if (!this.child) return;
    if (before === 0 && this.held > 0) this.child.stdout.ref();
    if (before > 0 && this.held === 0) this.child.stdout.unref();
  }
}
