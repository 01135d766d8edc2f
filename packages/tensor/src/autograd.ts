// Define-by-run autograd. Every differentiable op is made with `defineOp`: a forward that runs
// kernels, and a backward rule. When any input needs a gradient, the op records a GraphNode
// holding the tensors its backward needs ("saved"); those are released as soon as the node has
// run in backward(), or when nothing can reach the node any more (refcounts, not the GC).
import { TensorError } from './errors.js';
import { Tensor } from './tensor.js';

let gradEnabled = true;
let nextNodeId = 1;

/** Run `fn` without recording autograd nodes (inference, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Where a node's input gradient goes: another node, or a leaf tensor's `.grad`. */
export type Edge = { node: GraphNode; leaf?: undefined } | { leaf: Tensor; node?: undefined };

export class OpContext {
  /** Tensors saved for backward (aliases sharing storage, invisible to scopes). */
  readonly saved: Tensor[] = [];
  /** Free-form values the backward rule needs (shapes, axes, options). */
  [key: string]: unknown;

  constructor(readonly recording: boolean) {}

  /** Keep tensors for backward. A no-op when no gradient will be taken. */
  save(...tensors: Tensor[]): void {
    if (!this.recording) return;
    for (const t of tensors) this.saved.push(t.view(t.shape, false));
  }
}

/**
 * Gradients already waiting for a node's inputs when its rule runs. A rule whose kernel can add
 * a tensor as it stores an input's gradient takes the waiting one and returns the sum in that
 * input's slot: the sum backward() would otherwise take a dispatch for (a DenseNet feature map's
 * gradient from the next concat, folded into the bottleneck's BN backward).
 */
export interface PendingGradients {
  /**
   * The one gradient waiting for input k (the input's shape and dtype), now the rule's: it must
   * return it added into its gradient for input k, and dispose it. null when none or several wait.
   */
  take(k: number): Tensor | null;
}

export type BackwardRule = (
  ctx: OpContext,
  grad: Tensor,
  pending: PendingGradients,
) => readonly (Tensor | null | undefined)[];

/** For rules run outside backward(): nothing waits. */
const NOTHING_PENDING: PendingGradients = { take: () => null };

export class GraphNode {
  readonly id = nextNodeId++;
  private refs = 0;
  private ran = false;

  constructor(
    readonly name: string,
    readonly ctx: OpContext,
    readonly inputs: readonly (Edge | null)[],
    readonly rule: BackwardRule,
  ) {
    for (const e of inputs) e?.node?.ref();
  }

  ref(): void {
    this.refs++;
  }

  /** Drop one reference; at zero the saved tensors and the links to inputs go. */
  unref(): void {
    if (--this.refs > 0) return;
    this.releaseSaved();
    for (const e of this.inputs) e?.node?.unref();
  }

  releaseSaved(): void {
    for (const t of this.ctx.saved) t.dispose();
    this.ctx.saved.length = 0;
  }

  /** Apply the backward rule once; saved tensors are released right after. */
  run(grad: Tensor, pending: PendingGradients = NOTHING_PENDING): readonly (Tensor | null | undefined)[] {
    if (this.ran)
      throw new TensorError(`backward through '${this.name}' a second time: its saved tensors were already released`);
    this.ran = true;
    try {
      return noGrad(() => this.rule(this.ctx, grad, pending));
    } finally {
      this.releaseSaved();
    }
  }
}

export interface OpSpec<A extends unknown[]> {
  name: string;
  /** Computes the output with kernels; gradient recording is off inside. */
  forward: (ctx: OpContext, ...args: A) => Tensor;
  /** Gradients for the Tensor arguments, in argument order (null: none). Omit for non-differentiable ops. */
  backward?: BackwardRule;
}

/**
 * Make an op. This is how the core defines its own ops and how other packages add theirs.
 * The result is a plain function of the same arguments.
 */
export function defineOp<A extends unknown[]>(spec: OpSpec<A>): (...args: A) => Tensor {
  const { name, forward, backward } = spec;
  return (...args: A): Tensor => {
    const tensors = args.filter((a): a is Tensor => a instanceof Tensor);
    for (const t of tensors) void t.storage; // a disposed input throws here, before any output is allocated
    const record = backward !== undefined && gradEnabled && tensors.some((t) => t.requiresGrad);
    const ctx = new OpContext(record);
    let out = noGrad(() => forward(ctx, ...args));
    // Integer results carry no gradient (PyTorch: only floating-point tensors require grad).
    if (!record || out.dtype !== 'f32') {
      ctx.saved.forEach((t) => t.dispose());
      return out;
    }
    if (tensors.includes(out)) out = out.view();
    const edges = tensors.map((t): Edge | null =>
      !t.requiresGrad ? null : t.gradFn ? { node: t.gradFn } : { leaf: t },
    );
    const node = new GraphNode(name, ctx, edges, backward);
    node.ref();
    out.gradFn = node;
    out.requiresGrad = true;
    return out;
  };
}

/** A tensor sharing storage with `t` but cut off from the graph. */
export function detach(t: Tensor): Tensor {
  return t.view();
}
