import * as T from '@spine/tensor';
import { Module } from './module.js';

export class ReLU extends Module {
  forward(x: T.Tensor): T.Tensor {
    return T.relu(x);
  }
}

/** Flatten dims startDim..endDim (PyTorch default: all but the batch dim). */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }

  forward(x: T.Tensor): T.Tensor {
    return T.flatten(x, this.startDim, this.endDim);
  }
}

export class Identity extends Module {
  forward(x: T.Tensor): T.Tensor {
    return T.reshape(x, x.shape); // a differentiable view (Tensor.view() would leave the graph)
  }
}
