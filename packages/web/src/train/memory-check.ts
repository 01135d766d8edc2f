/**
 * Whether a training run fits before it starts: the films held in memory (grey, at the input
 * size) against what the page may take, and the network's largest buffers against the adapter's
 * binding limit. Each answer says what to do instead.
 */
import type { Module } from '@spine/nn';

/** Films are kept as float32 grey planes at the input size; beyond this the tab risks being killed. */
export const FILM_MEMORY_BUDGET = 1.5 * 2 ** 30;

const mib = (bytes: number) =>
  bytes < 2 ** 20 ? `${Math.ceil(bytes / 1024)} KiB` : `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** A problem sentence when `films` films at `size` px do not fit in memory, else undefined. */
export function filmsProblem(films: number, size: number, budget = FILM_MEMORY_BUDGET): string | undefined {
  const bytes = films * size * size * 4;
  if (bytes <= budget) return undefined;
  const fit = Math.floor(budget / (size * size * 4));
  const smaller = Math.floor(Math.sqrt(budget / films / 4) / 16) * 16;
  return `the ${films} films at ${size} px take ${mib(bytes)} in memory, more than this page keeps (${mib(budget)}). Choose a smaller input size${smaller >= 32 ? ` (${smaller} px fits)` : ''}, or a folder of at most ${fit} films.`;
}

/**
 * A problem sentence when a parameter or the first activations of a batch exceed the adapter's
 * largest storage binding, else undefined.
 */
export function networkProblem(
  model: Module,
  batchSize: number,
  size: number,
  limits: { maxStorageBufferBindingSize: number },
): string | undefined {
  const limit = limits.maxStorageBufferBindingSize;
  for (const [name, p] of model.namedParameters()) {
    const bytes = 4 * p.shape.reduce((a, b) => a * b, 1);
    if (bytes > limit)
      return `the network's ${name} takes ${mib(bytes)}, over this graphics adapter's binding limit of ${mib(limit)}. Choose a smaller input size.`;
  }
  const input = 4 * batchSize * 3 * size * size;
  if (input > limit)
    return `a batch of ${batchSize} films at ${size} px takes ${mib(input)}, over this graphics adapter's binding limit of ${mib(limit)}. Choose a smaller input size.`;
  return undefined;
}
