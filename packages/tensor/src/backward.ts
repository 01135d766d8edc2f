// backward(): one topological order over the graph, walked in reverse (micrograd's loop),
// gradients accumulated per node; each node's saved tensors go as soon as it has run.
import type { GraphNode } from './autograd.js';
import { TensorError } from './errors.js';
import { onesLike } from './ops/creation.js';
import { add, addSame, addSameMax } from './ops/elementwise.js';
import { scope } from './scope.js';
import { formatShape, sameShape } from './shape.js';
import type { Tensor } from './tensor.js';

function topologicalOrder(root: GraphNode): GraphNode[] {
  const order: GraphNode[] = [];
  const seen = new Set<GraphNode>([root]);
  // Iterative post-order DFS: deep nets (DenseNet) must not hit the JS recursion limit.
  const stack: [GraphNode, number][] = [[root, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [node, i] = top;
    const edge = node.inputs[i];
    if (i < node.inputs.length) {
      top[1]++;
      const child = edge?.node;
      if (child && !seen.has(child)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  return order;
}

/**
 * A node's incoming gradients wait in a list (the running sum first, then arrivals in order)
 * and are summed addSameMax() (8 where the adapter binds 9 storage buffers) at a time, in the
 * order pairwise adds would take: a DenseNet feature map receives a gradient from every later
 * layer of its block, and its 541 two-operand adds were mostly per-dispatch cost (a DenseNet-121
 * step: 198 sums four at a time, 104 eight at a time). At most addSameMax() - 1 gradients wait
 * beside the sum.
 */
function accumulate(pending: Tensor[] | undefined, g: Tensor): Tensor[] {
  const list = pending ?? [];
  list.push(g);
  return list.length >= addSameMax() ? [sumPending(list)] : list;
}

function sumPending(list: Tensor[]): Tensor {
  if (list.length === 1) return list[0]!;
  const [first] = list as [Tensor];
  // Gradients of one node share its shape; pairwise adds only if a rule ever broke that.
  const same = list.every((t) => sameShape(t.shape, first.shape) && t.dtype === first.dtype);
  const sum = same ? addSame(list) : list.slice(1).reduce((s, t) => add(s, t), first);
  for (const t of list) t.dispose();
  return sum;
}

/**
 * Gradients of `root` (seeded with `grad`, or ones for a scalar) with respect to every leaf
 * that requires grad, accumulated into the leaves' `.grad` (kept tensors).
 */
export function backward(root: Tensor, grad?: Tensor): void {
  if (!root.requiresGrad)
    throw new TensorError(
      'backward(): the tensor does not require grad (no input had requiresGrad, or it was computed under noGrad)',
    );
  if (!grad && root.size !== 1)
    throw new TensorError(`backward(): pass a gradient for a non-scalar output (shape ${formatShape(root.shape)})`);
  if (grad && !sameShape(grad.shape, root.shape))
    throw new TensorError(
      `backward(): gradient shape ${formatShape(grad.shape)} differs from the output's ${formatShape(root.shape)}`,
    );
  const seed = grad ? grad.view(grad.shape, false) : scope(() => onesLike(root)).keep();
  if (!root.gradFn) {
    // A leaf: its gradient is the seed itself.
    root.grad = accumulateLeaf(root.grad, seed);
    return;
  }
  const grads = new Map<GraphNode, Tensor[]>([[root.gradFn, [seed]]]);
  const order = topologicalOrder(root.gradFn);
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i]!;
    const pending = grads.get(node);
    grads.delete(node);
    if (!pending) {
      node.releaseSaved();
      continue;
    }
    const g = sumPending(pending);
    const taken = new Set<number>();
    const offer = {
      take: (k: number): Tensor | null => {
        const target = node.inputs[k]?.node;
        const waiting = target && grads.get(target);
        if (!waiting || waiting.length !== 1) return null;
        grads.delete(target);
        taken.add(k);
        return waiting[0]!;
      },
    };
    const raw = scope(() => node.run(g, offer));
    for (const k of taken)
      if (!raw[k])
        throw new TensorError(
          `backward through '${node.name}': its rule took the gradient waiting for input ${k} and returned none (a bug in the rule)`,
        );
    // A rule may hand back its incoming gradient, or one tensor for two inputs (add: [g, g]);
    // give each slot its own handle so disposing one never frees another.
    const inputGrads = raw.map((gi, k) => (gi && (gi === g || raw.indexOf(gi) < k) ? gi.view(gi.shape, false) : gi));
    g.dispose();
    node.inputs.forEach((edge, k) => {
      const gi = inputGrads[k];
      if (!gi) return;
      if (!edge) gi.dispose();
      else if (edge.node) grads.set(edge.node, accumulate(grads.get(edge.node), gi));
      else if (edge.leaf.isDisposed) gi.dispose();
      else edge.leaf.grad = accumulateLeaf(edge.leaf.grad, gi);
    });
    for (const extra of inputGrads.slice(node.inputs.length)) extra?.dispose();
  }
}

function accumulateLeaf(prev: Tensor | null, g: Tensor): Tensor {
  if (!prev) return g.keep();
  const sum = scope(() => add(prev, g));
  prev.dispose();
  g.dispose();
  return sum.keep();
}
