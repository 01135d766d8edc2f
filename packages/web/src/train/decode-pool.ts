/**
 * Films decoded and resized in Web Workers (decode-worker.ts), a few at a time, so checking a
 * folder of thousands of films keeps the page responsive and uses the machine's cores. Where
 * workers cannot start (a page opened without its worker file), films are decoded on the page's
 * own thread with the same code.
 */
import { decodeImage, type Image } from '@spine/imaging';
import {
  filmDecodeOptions,
  preprocess,
  resolveTransform,
  unreadableImage,
  type TransformConfig,
} from '@spine/models/browser';
import type { DecodeReply, DecodeTask } from './decode-protocol.js';

export type Decoded = { image: Image } | { problem: string };

export class DecodePool {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, { file: File; name: string; done: (reply: Decoded) => void }>();
  private next = 0;

  constructor(private readonly transform: TransformConfig) {
    try {
      const count = Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 2) - 1));
      for (let i = 0; i < count; i++) {
        const w = new Worker(new URL('./decode-worker.js', import.meta.url), { type: 'module' });
        w.onmessage = (e: MessageEvent<DecodeReply>) => {
          const task = this.waiting.get(e.data.id);
          this.waiting.delete(e.data.id);
          task?.done('image' in e.data ? { image: e.data.image } : { problem: e.data.problem });
        };
        // A worker that cannot load (its file missing): every film, waiting or not, is decoded here.
        w.onerror = (e) => {
          e.preventDefault();
          this.close();
          for (const [id, task] of this.waiting) {
            this.waiting.delete(id);
            void this.decodeHere(task.file, task.name).then(task.done);
          }
        };
        this.workers.push(w);
      }
    } catch {
      this.close();
    }
  }

  /** The film resized to the network input, or spine-cli's problem sentence for it. */
  async decode(file: File, name: string): Promise<Decoded> {
    if (this.workers.length === 0) return this.decodeHere(file, name);
    const bytes = new Uint8Array(await file.arrayBuffer());
    const id = this.next++;
    const worker = this.workers[id % this.workers.length]!;
    return new Promise<Decoded>((done) => {
      this.waiting.set(id, { file, name, done });
      const task: DecodeTask = { id, bytes, name, transform: this.transform };
      worker.postMessage(task, [bytes.buffer]);
    });
  }

  close(): void {
    for (const w of this.workers.splice(0)) w.terminate();
  }

  private async decodeHere(file: File, name: string): Promise<Decoded> {
    return decodeHere(new Uint8Array(await file.arrayBuffer()), name, this.transform);
  }
}

function decodeHere(bytes: Uint8Array, name: string, transform: TransformConfig): Decoded {
  try {
    return { image: preprocess(decodeImage(bytes, name, filmDecodeOptions(undefined)), resolveTransform(transform)) };
  } catch (e) {
    return { problem: unreadableImage(e) };
  }
}
