// Differentiable elementwise ops from WGSL expressions, on @spine/tensor's elementwise kernel
// (map): one dispatch forward, one per input gradient backward. Losses and activations that
// are a formula per element are written this way, with their derivative beside them.
//
// Operands are named by position as map names them: the forward's inputs a, b, c; in a
// gradient expression a is the upstream gradient and the inputs follow as b, c, d. Numbers
// travel as uniforms. `helpers` are WGSL functions over T (f32, or vec4<f32> where the kernel
// runs four lanes at once), so they must use only operations defined for both.
import { defineOp, map, sumTo, Tensor, TensorError, type OpContext } from '@spine/tensor';

export interface PointwiseSpec {
  name: string;
  helpers?: string;
  forward: string;
  /** One expression per input; null for inputs without a gradient (targets, constants). */
  grads: readonly (string | null)[];
}

type Operand = Tensor | number;

/** A function of up to three operands (tensors broadcast together, numbers as uniforms). */
export function pointwiseOp(spec: PointwiseSpec): (...inputs: Operand[]) => Tensor {
  const helpers = spec.helpers ?? '';
  const op = defineOp({
    name: spec.name,
    forward: (ctx: OpContext, ...inputs: Operand[]) => {
      const tensors = inputs.filter((x): x is Tensor => x instanceof Tensor);
      for (const t of tensors)
        if (t.dtype !== 'f32') throw new TensorError(`${spec.name}: expects f32 tensors, got ${t.dtype}`);
      ctx.save(...tensors);
      ctx.inputs = inputs.map((x) => (x instanceof Tensor ? null : x));
      return map(spec.forward, inputs, { helpers });
    },
    backward: (ctx, g) => {
      const saved = [...ctx.saved];
      const inputs = (ctx.inputs as (number | null)[]).map((x) => x ?? saved.shift()!);
      const grads: (Tensor | null)[] = [];
      inputs.forEach((x, i) => {
        if (!(x instanceof Tensor)) return;
        const expr = spec.grads[i];
        if (!expr) return grads.push(null);
        const full = map(expr, [g, ...inputs], { helpers });
        if (full.shape.length === x.shape.length && full.shape.every((d, k) => d === x.shape[k]))
          return grads.push(full);
        grads.push(sumTo(full, x.shape));
        full.dispose();
      });
      return grads;
    },
  });
  return (...inputs) => {
    if (inputs.length !== spec.grads.length)
      throw new TensorError(`${spec.name}: expects ${spec.grads.length} operands, got ${inputs.length}`);
    return op(...inputs);
  };
}
