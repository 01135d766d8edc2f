/**
 * The names spine-cli's files carry in their safetensors metadata (`format`), and the metadata of
 * a web model: a run's network weights with the network spec, the input transform and the
 * verdict rule as JSON strings, so a page can run it without the run directory.
 */
import type { InputTransform, ModelConfig } from './spec.js';
import type { Verdict } from './verdict.js';

/** A training checkpoint: keys `model.*` and `optimizer.*`, a JSON sidecar beside it. */
export const CHECKPOINT_FORMAT = 'spine-checkpoint';
/** What `spine-cli export-web` writes as model.safetensors. */
export const WEB_MODEL_FORMAT = 'spine-web-model';
export const WEB_MODEL_VERSION = '1';

export interface WebModelSource {
  run: string;
  checkpoint: string;
  epoch: number;
  [more: string]: unknown;
}

/** The safetensors metadata of a web model (the tensors are the network's state dict). */
export function webModelMetadata(
  model: ModelConfig,
  transform: InputTransform,
  verdict: Verdict,
  source: WebModelSource,
): Record<string, string> {
  return {
    format: WEB_MODEL_FORMAT,
    version: WEB_MODEL_VERSION,
    model: JSON.stringify(model),
    transform: JSON.stringify(transform),
    verdict: JSON.stringify(verdict),
    source: JSON.stringify(source),
  };
}
