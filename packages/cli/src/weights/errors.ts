import { isWeightsError } from '@spine/models';
import { CliError } from '../ui/errors.js';

/** A WeightsError as the one message the user sees (its hint on the next line); other errors pass. */
export function weightsCliError(e: unknown): unknown {
  return isWeightsError(e) ? new CliError(e.message, e.hint, { cause: e }) : e;
}
