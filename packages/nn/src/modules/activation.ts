import * as T from '@spine/tensor';
import { elu, gelu, hardswish, leakyRelu, silu } from '../ops/activations.js';
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

/** leakyRelu as a module (PyTorch's LeakyReLU; default slope 0.01). */
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  forward(x: T.Tensor): T.Tensor {
    return leakyRelu(x, this.negativeSlope);
  }
}

export class ELU extends Module {
  constructor(readonly alpha = 1) {
    super();
  }
  forward(x: T.Tensor): T.Tensor {
    return elu(x, this.alpha);
  }
}

/** GELU, exact ('none') or tanh-approximated, as PyTorch's GELU(approximate). */
export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
  }
  forward(x: T.Tensor): T.Tensor {
    return gelu(x, this.approximate);
  }
}

export class SiLU extends Module {
  forward(x: T.Tensor): T.Tensor {
    return silu(x);
  }
}

export class Hardswish extends Module {
  forward(x: T.Tensor): T.Tensor {
    return hardswish(x);
  }
}

export class Sigmoid extends Module {
  forward(x: T.Tensor): T.Tensor {
    return T.sigmoid(x);
  }
}

export class Tanh extends Module {
  forward(x: T.Tensor): T.Tensor {
    return T.tanh(x);
  }
}

/** Softmax along `dim` (required: PyTorch's implicit choice of dim is deprecated). */
export class Softmax extends Module {
  constructor(readonly dim: number) {
    super();
  }
  forward(x: T.Tensor): T.Tensor {
    return T.softmax(x, this.dim);
  }
}

export class LogSoftmax extends Module {
  constructor(readonly dim: number) {
    super();
  }
  forward(x: T.Tensor): T.Tensor {
    return T.logSoftmax(x, this.dim);
  }
}
