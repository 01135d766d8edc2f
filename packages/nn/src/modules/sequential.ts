import type * as T from '@spine/tensor';
import { Module } from './module.js';

/** Children named '0', '1', ... like torch.nn.Sequential; forward chains them. */
export class Sequential extends Module {
  private readonly order: Module[] = [];

  constructor(...modules: Module[]) {
    super();
    for (const m of modules) this.append(m);
  }

  append(m: Module): this {
    this.registerModule(String(this.order.length), m);
    this.order.push(m);
    return this;
  }

  /** A Sequential with named children (torchvision's `features` uses names like 'conv0'). */
  static named(entries: [string, Module][]): Sequential {
    const s = new Sequential();
    for (const [name, m] of entries) {
      s.registerModule(name, m);
      s.order.push(m);
    }
    return s;
  }

  get length(): number {
    return this.order.length;
  }

  at(i: number): Module {
    return this.order[i < 0 ? i + this.order.length : i]!;
  }

  forward(x: T.Tensor): T.Tensor {
    let y = x;
    for (const m of this.order) {
      const next = m.forward(y);
      // Intermediates go as soon as the next layer has them (autograd keeps what it saved); a
      // layer may hand its input back unchanged (Dropout in eval), which must then live on.
      if (y !== x && y !== next) y.dispose();
      y = next;
    }
    return y;
  }
}
